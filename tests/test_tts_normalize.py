"""The Vietnamese TTS normaliser (docs/architecture.md): what the voice reads for what is written.

One table of written → spoken cases per category, each with an id saying what it shows, then
whole bulletin sentences, then the properties every bulletin relies on: text with nothing to
read differently is unchanged, a second pass changes nothing, the dictionary is extensible.
"""

from __future__ import annotations

import json
import unicodedata

import pytest

from audio.tts.normalize_vi import AbbreviationFileError, load_abbreviations, normalize
from audio.tts.numbers_vi import (
    digits_to_words,
    month_to_words,
    number_to_words,
    ordinal_to_words,
    roman_to_int,
)

Y2023 = "hai nghìn không trăm hai mươi ba"
Y2024 = "hai nghìn không trăm hai mươi tư"
Y2030 = "hai nghìn không trăm ba mươi"

CASES = [
    # --- document references (issue #14): number, year, type said once, "của" the issuer
    (
        "Kế hoạch số 58/KH-UBND ngày 15/3/2024",
        f"Kế hoạch số năm mươi tám của Ủy ban nhân dân ngày mười lăm tháng ba năm {Y2024}",
        "doc-ke-hoach",
    ),
    (
        "Quyết định số 1234/QĐ-UBND",
        "Quyết định số một nghìn hai trăm ba mươi tư của Ủy ban nhân dân",
        "doc-quyet-dinh",
    ),
    (
        "Nghị định số 100/2019/NĐ-CP",
        "Nghị định số một trăm năm hai nghìn không trăm mười chín của Chính phủ",
        "doc-nghi-dinh-with-year",
    ),
    (
        "Công văn số 312/UBND-VP",
        "Công văn số ba trăm mười hai của Ủy ban nhân dân, Văn phòng",
        "doc-cong-van-two-issuers",
    ),
    ("Chỉ thị số 05-CT/TW", "Chỉ thị số năm của Trung ương", "doc-chi-thi-leading-zero"),
    ("Thông báo số 25/TB-UBND", "Thông báo số hai mươi lăm của Ủy ban nhân dân", "doc-thong-bao"),
    ("Nghị quyết số 12/NQ-HĐND", "Nghị quyết số mười hai của Hội đồng nhân dân", "doc-nghi-quyet"),
    (
        "theo văn bản số 58/KH-UBND",
        "theo văn bản số năm mươi tám kế hoạch của Ủy ban nhân dân",
        "doc-type-said-when-not-before",
    ),
    (
        "Thông tư số 17/2023/TT-BGDĐT",
        f"Thông tư số mười bảy năm {Y2023} của Bộ Giáo dục và Đào tạo",
        "doc-ministry",
    ),
    (
        "Quyết định 2161/QĐ-TTg",
        "Quyết định hai nghìn một trăm sáu mươi mốt của Thủ tướng Chính phủ",
        "doc-without-so",
    ),
    ("Kế hoạch số 07-KH/TU", "Kế hoạch số bảy của Tỉnh ủy", "doc-party-committee"),
    ("Giấy mời số 15/GM-UBND", "Giấy mời số mười lăm của Ủy ban nhân dân", "doc-giay-moi"),
    ("Công điện số 03/CĐ-UBND", "Công điện số ba của Ủy ban nhân dân", "doc-cong-dien"),
    ("Hướng dẫn số 9/HD-SGDĐT", "Hướng dẫn số chín của Sở Giáo dục và Đào tạo", "doc-huong-dan"),
    (
        "Báo cáo số 120/BC-UBND.",
        "Báo cáo số một trăm hai mươi của Ủy ban nhân dân.",
        "doc-before-full-stop",
    ),
    ("Tờ trình số 44/TTr-UBND", "Tờ trình số bốn mươi tư của Ủy ban nhân dân", "doc-to-trinh"),
    (
        "Quyết định số 12/QĐ-XYZ",
        "Quyết định số mười hai của ích xì i dài dét",
        "doc-unknown-issuer-spelled",
    ),
    # --- acronyms: a grown dictionary; still unknown → spelled by Vietnamese letter names
    ("BCH Đoàn xã", "Ban Chấp hành Đoàn xã", "acr-bch"),
    ("ĐTN và LHPN xã", "Đoàn Thanh niên và Liên hiệp Phụ nữ xã", "acr-dtn-lhpn"),
    ("xây dựng XHHT", "xây dựng xã hội học tập", "acr-xhht"),
    ("TDP số 3", "tổ dân phố số ba", "acr-tdp"),
    ("vay vốn NHCSXH", "vay vốn Ngân hàng Chính sách xã hội", "acr-nhcsxh"),
    ("thuế TNCN và thuế GTGT", "thuế thu nhập cá nhân và thuế giá trị gia tăng", "acr-tax"),
    ("thuế TNDN", "thuế thu nhập doanh nghiệp", "acr-tndn"),
    (
        "nộp BHXH, BHYT, BHTN",
        "nộp bảo hiểm xã hội, bảo hiểm y tế, bảo hiểm thất nghiệp",
        "acr-social-insurance",
    ),
    ("HCCB xã", "Hội Cựu chiến binh xã", "acr-hccb"),
    ("Công ty CP Sông Đà", "Công ty cổ phần Sông Đà", "acr-co-phan"),
    ("phong trào HTSĐ", "phong trào học tập suốt đời", "acr-htsd"),
    ("nộp vào KBNN huyện", "nộp vào Kho bạc Nhà nước huyện", "acr-kbnn"),
    ("ông HTK phát biểu", "ông hát tê ca phát biểu", "acr-unknown-spelled"),
    ("mã QR", "mã quy e rờ", "acr-unknown-two-letters"),
    ("THÔNG BÁO KHẨN", "THÔNG BÁO KHẨN", "acr-shouted-words-kept"),
    ("LOA XÃ PHÁT", "LOA XÃ PHÁT", "acr-shouted-syllables-kept"),
    ("khóa XIII", "khóa mười ba", "acr-roman-not-spelled"),
    ("khối ASEAN", "khối A-xê-an", "acr-read-as-a-word"),
    ("công suất 500 MW", "công suất năm trăm mê-ga-oát", "acr-unit-not-spelled"),
    # --- emergency numbers, house numbers, roads
    ("Gọi 113/114/115", "Gọi một một ba, một một bốn, một một năm", "emg-list-after-goi"),
    (
        "các số 113/114/115 hoạt động",
        "các số một một ba, một một bốn, một một năm hoạt động",
        "emg-list",
    ),
    ("Cảnh sát 113", "Cảnh sát một một ba", "emg-police"),
    ("cấp cứu 115", "cấp cứu một một năm", "emg-ambulance"),
    ("cứu hỏa 114", "cứu hỏa một một bốn", "emg-fire"),
    ("có 113 hộ dân", "có một trăm mười ba hộ dân", "emg-a-count-is-a-count"),
    ("số nhà 45/12 đường Lê Lợi", "số nhà bốn mươi lăm trên mười hai đường Lê Lợi", "house-so-nha"),
    ("ngõ 12/3 phố Hai Bà Trưng", "ngõ mười hai trên ba phố Hai Bà Trưng", "house-ngo"),
    ("số 7/2/15 tổ 4", "số bảy trên hai trên mười lăm tổ bốn", "house-three-parts"),
    ("số nhà 45/12A", "số nhà bốn mươi lăm trên mười hai a", "house-letter-suffix"),
    ("đi theo QL21A", "đi theo quốc lộ hai mươi mốt a", "road-ql21a"),
    ("QL 1A đoạn qua huyện", "quốc lộ một a đoạn qua huyện", "road-space"),
    ("ĐT.491", "đường tỉnh bốn trăm chín mươi mốt", "road-provincial-dot"),
    ("tuyến TL62", "tuyến tỉnh lộ sáu mươi hai", "road-tinh-lo"),
    # --- abbreviations (whole tokens, case-sensitive, with & and -)
    ("UBND xã", "Ủy ban nhân dân xã", "abbr-ubnd"),
    ("HĐND huyện", "Hội đồng nhân dân huyện", "abbr-hdnd"),
    ("Ban Thường trực MTTQ", "Ban Thường trực Mặt trận Tổ quốc", "abbr-mttq"),
    ("Bộ TT&TT", "Bộ Thông tin và Truyền thông", "abbr-ampersand"),
    ("Sở TT&TT", "Sở Thông tin và Truyền thông", "abbr-multiword-key-wins"),
    ("Đài PT&TH tỉnh", "Đài Phát thanh và Truyền hình tỉnh", "abbr-pt-th"),
    ("Trung tâm VH-TT-TT", "Trung tâm Văn hóa, Thông tin và Thể thao", "abbr-hyphens"),
    ("Trung tâm VHTTTT", "Trung tâm Văn hóa, Thông tin và Thể thao", "abbr-vhtttt"),
    ("trường THCS và THPT", "trường trung học cơ sở và trung học phổ thông", "abbr-schools"),
    ("Ban Chỉ huy PCTT-TKCN", "Ban Chỉ huy phòng chống thiên tai và tìm kiếm cứu nạn", "abbr-pctt"),
    ("TP Phủ Lý", "thành phố Phủ Lý", "abbr-tp"),
    ("TP. Phủ Lý", "thành phố Phủ Lý", "abbr-tp-dot-dropped"),
    ("TX Duy Tiên", "thị xã Duy Tiên", "abbr-tx"),
    ("BCH Đoàn xã", "Ban Chấp hành Đoàn xã", "abbr-bch"),
    ("CLB dưỡng sinh", "câu lạc bộ dưỡng sinh", "abbr-clb"),
    ("HTX nông nghiệp", "hợp tác xã nông nghiệp", "abbr-htx"),
    ("thẻ BHYT, sổ BHXH", "thẻ bảo hiểm y tế, sổ bảo hiểm xã hội", "abbr-insurance"),
    ("CSGT nhắc nhở về ATGT", "cảnh sát giao thông nhắc nhở về an toàn giao thông", "abbr-traffic"),
    ("công tác PCCC", "công tác phòng cháy chữa cháy", "abbr-pccc"),
    ("phát triển KT-XH", "phát triển kinh tế xã hội", "abbr-kt-xh"),
    ("xây dựng XHHT", "xây dựng xã hội học tập", "abbr-xhht"),
    ("Trung tâm GDTX", "Trung tâm giáo dục thường xuyên", "abbr-gdtx"),
    ("Phòng GD&ĐT", "Phòng Giáo dục và Đào tạo", "abbr-gd-dt"),
    ("ĐTNCS HCM", "Đoàn Thanh niên Cộng sản Hồ Chí Minh", "abbr-dtncs-hcm"),
    ("ĐTN xã", "Đoàn Thanh niên xã", "abbr-dtn"),
    ("Quyết định QĐ-UBND", "Quyết định quy đê Ủy ban nhân dân", "abbr-unknown-compound-parts"),
    ("UBNDX và ubnd", "u bê en nờ dê ích xì và ubnd", "abbr-not-inside-words-or-other-case"),
    # --- numbers
    ("0", "không", "num-0"),
    ("5", "năm", "num-5"),
    ("10", "mười", "num-10"),
    ("15", "mười lăm", "num-15"),
    ("21", "hai mươi mốt", "num-21"),
    ("24", "hai mươi tư", "num-24"),
    ("25", "hai mươi lăm", "num-25"),
    ("105", "một trăm linh năm", "num-105-linh"),
    ("1.000", "một nghìn", "num-thousand-dot"),
    ("1.000.000", "một triệu", "num-million"),
    ("2.500.000", "hai triệu năm trăm nghìn", "num-2.5-million"),
    ("1.000.000.000", "một tỷ", "num-billion"),
    ("1.000.050", "một triệu không trăm năm mươi", "num-zero-groups"),
    ("2024", Y2024, "num-plain-4-digits"),
    ("5,3", "năm phẩy ba", "num-decimal"),
    ("12,75", "mười hai phẩy bảy mươi lăm", "num-decimal-2"),
    ("0,05", "không phẩy không năm", "num-decimal-leading-zeros"),
    ("25%", "hai mươi lăm phần trăm", "num-percent"),
    ("5,3%", "năm phẩy ba phần trăm", "num-decimal-percent"),
    ("-5", "âm năm", "num-negative"),
    ("Cách mạng công nghiệp 4.0", "Cách mạng công nghiệp bốn chấm không", "num-dot-not-thousands"),
    ("lớp 12A", "lớp mười hai A", "num-glued-to-letter"),
    # --- dates
    ("21/4", "hai mươi mốt tháng tư", "date-dm"),
    ("ngày 21/4", "ngày hai mươi mốt tháng tư", "date-after-ngay-no-double"),
    ("21/4/2024", f"hai mươi mốt tháng tư năm {Y2024}", "date-dmy"),
    ("ngày 21-4", "ngày hai mươi mốt tháng tư", "date-dash-after-ngay"),
    ("ngày 21-4-2024", f"ngày hai mươi mốt tháng tư năm {Y2024}", "date-dmy-dashes"),
    ("01/10", "một tháng mười", "date-leading-zeros"),
    ("1/1", "một tháng một", "date-january-mot"),
    ("2/9/1945", "hai tháng chín năm một nghìn chín trăm bốn mươi lăm", "date-national-day"),
    ("25/12", "hai mươi lăm tháng mười hai", "date-december"),
    ("tháng 4/2024", f"tháng tư năm {Y2024}", "date-month-year-after-thang"),
    ("quý 1/2024", f"quý một năm {Y2024}", "date-quarter-year"),
    ("tháng 4", "tháng tư", "date-month-name"),
    ("3 tháng 4 ngày", "ba tháng bốn ngày", "date-duration-not-month"),
    ("32/1", "ba mươi hai/một", "date-invalid-day-left"),
    ("12/12 thôn", "mười hai trên mười hai thôn", "date-ratio-before-counted-noun"),
    # --- ranges
    ("2023-2030", f"{Y2023} đến {Y2030}", "range-years-hyphen"),
    ("giai đoạn 2023–2030", f"giai đoạn {Y2023} đến {Y2030}", "range-years-en-dash"),
    ("năm học 2023 - 2024", f"năm học {Y2023} đến {Y2024}", "range-spaced-hyphen"),
    ("15/4–1/5", "mười lăm tháng tư đến một tháng năm", "range-dates"),
    ("7-10 giờ", "bảy đến mười giờ", "range-hours"),
    ("từ ngày 15-20/4", "từ ngày mười lăm đến hai mươi tháng tư", "range-days-one-month"),
    ("tháng 4-6", "tháng tư đến tháng sáu", "range-months"),
    ("10-15%", "mười đến mười lăm phần trăm", "range-percent"),
    ("7h30 - 11h", "bảy giờ ba mươi phút đến mười một giờ", "range-times"),
    # --- times
    ("17h30", "mười bảy giờ ba mươi phút", "time-h-minutes"),
    ("17h", "mười bảy giờ", "time-h"),
    ("17h00", "mười bảy giờ", "time-zero-minutes-silent"),
    ("5 giờ 30", "năm giờ ba mươi", "time-words"),
    ("05:30", "năm giờ ba mươi phút", "time-colon"),
    ("7h05", "bảy giờ năm phút", "time-leading-zero-minute"),
    # --- ordinals
    ("thứ 2", "thứ hai", "ord-monday"),
    ("thứ 4", "thứ tư", "ord-thu-tu"),
    ("Thứ 7, chủ nhật", "Thứ bảy, chủ nhật", "ord-saturday-sunday-untouched"),
    ("lần thứ 1", "lần thứ nhất", "ord-nhat"),
    ("lần thứ 3", "lần thứ ba", "ord-ba"),
    ("hạng 1", "hạng nhất", "ord-rank-1"),
    ("giải 2", "giải nhì", "ord-rank-2"),
    ("thứ 2-6", "thứ hai đến thứ sáu", "ord-weekday-range"),
    # --- Roman numerals
    ("khóa XIII", "khóa mười ba", "roman-khoa"),
    ("quý IV", "quý bốn", "roman-quy"),
    ("thế kỷ XXI", "thế kỷ hai mươi mốt", "roman-the-ky"),
    ("Đại hội XIII của Đảng", "Đại hội mười ba của Đảng", "roman-dai-hoi"),
    ("lần thứ XXVI", "lần thứ hai mươi sáu", "roman-ordinal"),
    ("Chương II, Điều IV", "Chương hai, Điều bốn", "roman-chuong-dieu"),
    ("hạng III", "hạng ba", "roman-rank"),
    ("Quý I/2024", f"Quý một năm {Y2024}", "roman-quarter-year"),
    ("Tôi là I. Vitamin C, tia X", "Tôi là I. Vitamin C, tia X", "roman-no-context-untouched"),
    ("phần C", "phần C", "roman-single-letter-c-untouched"),
    # --- phone numbers
    ("0912 345 678", "không chín một hai ba bốn năm sáu bảy tám", "phone-spaces"),
    ("0226.3852.123", "không hai hai sáu ba tám năm hai một hai ba", "phone-dots"),
    ("0912345678", "không chín một hai ba bốn năm sáu bảy tám", "phone-plain"),
    ("1900 1234", "một chín không không một hai ba bốn", "phone-hotline"),
    ("gọi 114", "gọi một một bốn", "phone-emergency"),
    (
        "đường dây nóng 113 hoặc 115",
        "đường dây nóng một một ba hoặc một một năm",
        "phone-emergency-list",
    ),
    ("có 114 hộ", "có một trăm mười bốn hộ", "phone-114-without-context-is-a-number"),
    # --- units and currency
    ("5 km", "năm ki-lô-mét", "unit-km"),
    ("5km2", "năm ki-lô-mét vuông", "unit-km2"),
    ("5 km²", "năm ki-lô-mét vuông", "unit-km-superscript"),
    ("100 m²", "một trăm mét vuông", "unit-m2"),
    ("3 ha", "ba héc-ta", "unit-ha"),
    ("50 kg", "năm mươi ki-lô-gam", "unit-kg"),
    ("2 tấn", "hai tấn", "unit-tan"),
    ("120mm", "một trăm hai mươi mi-li-mét", "unit-mm"),
    ("30°C", "ba mươi độ C", "unit-celsius"),
    ("-2°C", "âm hai độ C", "unit-negative-celsius"),
    ("50.000đ", "năm mươi nghìn đồng", "unit-dong-sign"),
    ("2.000.000 VNĐ", "hai triệu đồng", "unit-vnd"),
    ("60 km/h", "sáu mươi ki-lô-mét trên giờ", "unit-km-per-h"),
    ("1.200 người/km²", "một nghìn hai trăm người trên ki-lô-mét vuông", "unit-per-area"),
    ("25.000 đồng/kg", "hai mươi lăm nghìn đồng trên ki-lô-gam", "unit-price-per-kg"),
    ("2 lần/ngày", "hai lần mỗi ngày", "unit-per-noun"),
    ("vài km", "vài ki-lô-mét", "unit-standalone"),
    # --- symbols, addresses
    ("R&D", "R và D", "sym-ampersand"),
    ("5 + 3", "năm cộng ba", "sym-plus"),
    ("hanam.gov.vn.", "hanam chấm gov chấm vn.", "sym-url-full-stop-kept"),
    (
        "https://dichvucong.gov.vn/p/home",
        "dichvucong chấm gov chấm vn gạch chéo p gạch chéo home",
        "sym-url-scheme-dropped",
    ),
    ("ubnd@hanam.gov.vn", "ubnd a còng hanam chấm gov chấm vn", "sym-email"),
]

BULLETINS = [
    (
        "Sáng 21/4/2024, UBND xã tổ chức Ngày Sách và Văn hóa đọc Việt Nam lần thứ 3, "
        "thu hút 1.500 người tham gia.",
        f"Sáng hai mươi mốt tháng tư năm {Y2024}, Ủy ban nhân dân xã tổ chức Ngày Sách và "
        "Văn hóa đọc Việt Nam lần thứ ba, thu hút một nghìn năm trăm người tham gia.",
    ),
    (
        "Tuần lễ hưởng ứng học tập suốt đời năm 2024 diễn ra từ ngày 1/10 đến 7/10, "
        "do TTHTCĐ và Trung tâm GDTX phối hợp tổ chức.",
        f"Tuần lễ hưởng ứng học tập suốt đời năm {Y2024} diễn ra từ ngày một tháng mười đến "
        "bảy tháng mười, do Trung tâm học tập cộng đồng và Trung tâm giáo dục thường xuyên "
        "phối hợp tổ chức.",
    ),
    (
        "Thực hiện Đề án XHHT giai đoạn 2021–2030, năm 2023 có 12/12 thôn đạt danh hiệu "
        "Cộng đồng học tập và 95,5% hộ đạt Gia đình học tập.",
        "Thực hiện Đề án xã hội học tập giai đoạn hai nghìn không trăm hai mươi mốt đến "
        f"{Y2030}, năm {Y2023} có mười hai trên mười hai thôn đạt danh hiệu Cộng đồng học tập "
        "và chín mươi lăm phẩy năm phần trăm hộ đạt Gia đình học tập.",
    ),
    (
        "Lớp tin học của CLB Khuyến học thôn 3 khai giảng lúc 19h ngày 05/10, "
        "hỗ trợ 50.000đ/người/buổi; chi tiết liên hệ 0226.3852.123.",
        "Lớp tin học của câu lạc bộ Khuyến học thôn ba khai giảng lúc mười chín giờ ngày năm "
        "tháng mười, hỗ trợ năm mươi nghìn đồng mỗi người mỗi buổi; chi tiết liên hệ không hai "
        "hai sáu ba tám năm hai một hai ba.",
    ),
    (
        "Thư viện xã mở cửa từ 7h30 đến 17h các ngày thứ 2-6. "
        "HĐND xã khóa XXI, nhiệm kỳ 2021-2026 ghi nhận kết quả quý IV.",
        "Thư viện xã mở cửa từ bảy giờ ba mươi phút đến mười bảy giờ các ngày thứ hai đến thứ "
        "sáu. Hội đồng nhân dân xã khóa hai mươi mốt, nhiệm kỳ hai nghìn không trăm hai mươi "
        "mốt đến hai nghìn không trăm hai mươi sáu ghi nhận kết quả quý bốn.",
    ),
]


@pytest.mark.parametrize(("written", "spoken"), [c[:2] for c in CASES], ids=[c[2] for c in CASES])
def test_reads_written_forms_as_words(written, spoken):
    assert normalize(written) == spoken


@pytest.mark.parametrize(("written", "spoken"), BULLETINS, ids=lambda v: v[:24])
def test_reads_whole_bulletin_sentences(written, spoken):
    assert normalize(written) == spoken


def test_table_is_large_and_ids_are_unique():
    assert len(CASES) >= 70
    assert len({c[2] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(
    "text",
    [
        "Xã tổ chức Ngày hội đọc sách cho thiếu nhi, chủ nhật này.",
        "Đề nghị bà con chủ động phòng chống rét cho gia súc!",
        "Thứ Hai tuần sau, Hội Khuyến học họp tổng kết; Điều lệ Hội được thông qua.",
    ],
)
def test_text_with_nothing_to_read_differently_is_unchanged(text):
    assert normalize(text) == text


def test_whitespace_is_collapsed_but_line_breaks_survive():
    written = "  THÔNG BÁO \n\n\t Về   việc  tổ chức \nHội nghị   "
    assert normalize(written) == "THÔNG BÁO\nVề việc tổ chức\nHội nghị"


@pytest.mark.parametrize(
    "spoken",
    [c[1] for c in CASES] + [b[1] for b in BULLETINS],
    ids=[c[2] for c in CASES] + [f"bulletin-{i}" for i in range(len(BULLETINS))],
)
def test_a_second_pass_changes_nothing(spoken):
    assert normalize(spoken) == spoken


def test_decomposed_unicode_is_read_like_composed():
    decomposed = unicodedata.normalize("NFD", "HĐND xã ngày 21/4")
    assert normalize(decomposed) == "Hội đồng nhân dân xã ngày hai mươi mốt tháng tư"


def test_abbreviations_argument_replaces_the_dictionary():
    assert normalize("UBND xã", abbreviations={}) == "u bê en nờ dê xã"  # unknown: spelled
    assert normalize("HND xã", abbreviations={"HND": "Hội Nông dân"}) == "Hội Nông dân xã"


def test_load_abbreviations_bundled_dictionary():
    table = load_abbreviations()
    assert len(table) >= 40
    assert table["UBND"] == "Ủy ban nhân dân"
    assert table["TT&TT"] == "Thông tin và Truyền thông"
    assert all(key == unicodedata.normalize("NFC", key) for key in table)


def test_load_abbreviations_merges_a_user_file_whose_entries_win(tmp_path):
    extra = tmp_path / "abbr.json"
    extra.write_text(
        json.dumps({"UBND": "Uỷ ban nhân dân", "NVH": "nhà văn hóa"}, ensure_ascii=False),
        encoding="utf-8",
    )
    table = load_abbreviations(extra)
    assert table["UBND"] == "Uỷ ban nhân dân"
    assert table["NVH"] == "nhà văn hóa"
    assert table["HĐND"] == "Hội đồng nhân dân"
    spoken = "Uỷ ban nhân dân họp tại nhà văn hóa thôn hai"
    assert normalize("UBND họp tại NVH thôn 2", table) == spoken
    assert load_abbreviations()["UBND"] == "Ủy ban nhân dân"  # the cached bundle is untouched


@pytest.mark.parametrize(
    "content", ['["UBND"]', '{"UBND": 3}', '{"": "trống"}', "{not json"], ids=str
)
def test_a_bad_user_file_names_itself(tmp_path, content):
    extra = tmp_path / "bad.json"
    extra.write_text(content, encoding="utf-8")
    with pytest.raises(AbbreviationFileError, match=r"bad\.json"):
        load_abbreviations(extra)


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (11, "mười một"),
        (14, "mười bốn"),
        (41, "bốn mươi mốt"),
        (110, "một trăm mười"),
        (1005, "một nghìn không trăm linh năm"),
        (2_005_000, "hai triệu không trăm linh năm nghìn"),
        (1_200_000_000_000, "một nghìn hai trăm tỷ"),
        (-21, "âm hai mươi mốt"),
    ],
)
def test_number_to_words(n, words):
    assert number_to_words(n) == words


def test_small_helpers():
    assert digits_to_words("0912") == "không chín một hai"
    assert ordinal_to_words(1) == "nhất"
    assert ordinal_to_words(2) == "hai"
    assert ordinal_to_words(2, rank=True) == "nhì"
    assert [month_to_words(m) for m in (1, 4, 11)] == ["một", "tư", "mười một"]
    assert roman_to_int("XIV") == 14
    assert roman_to_int("IIII") is None
    with pytest.raises(ValueError, match="month"):
        month_to_words(13)
