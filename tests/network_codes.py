"""The stations the tests name, by their codes in the bundled Hà Nam 2024 tree
(config/stations/ha-nam-2024.json), in one place: a test module imports the ones it uses."""

from __future__ import annotations

PROVINCE = "35"  # Tỉnh Hà Nam
PHU_LY = "347"  # Thành phố Phủ Lý
QUANG_TRUNG = "13285"  # Phường Quang Trung (Phủ Lý)
# 13288 is not in the bundled 2024 tree; Lê Hồng Phong is the next ward of Phủ Lý.
LE_HONG_PHONG = "13291"  # Phường Lê Hồng Phong (Phủ Lý)
CHAU_CAU = "13294"  # Phường Châu Cầu (Phủ Lý)
LY_NHAN = "353"  # Huyện Lý Nhân
HOP_LY = "13567"  # Xã Hợp Lý (Lý Nhân)

# The panel tests' cast: Phủ Lý and one of its wards; Duy Tiên (349) and one of its wards,
# Phường Đồng Văn (13321), for another area.
DISTRICT, COMMUNE = PHU_LY, QUANG_TRUNG
OTHER_DISTRICT, OTHER_COMMUNE = "349", "13321"
