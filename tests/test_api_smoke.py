from __future__ import annotations


def test_health_reports_database(app):
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 200
    assert response.json["database"] == "ok"


def test_relay_reaches_commune_timeline(make_caller):
    admin = make_caller("admin", "35")
    created = admin.post(
        "/api/v1/broadcasts",
        json={
            "title": "Tiếp âm VOV1",
            "owner": "35",
            "kind": "relay",
            "stream_url": "http://127.0.0.1:9/vov1",
            "start": "2026-04-20T06:00:00",
            "duration_s": 1800,
            "rrule": "FREQ=DAILY",
        },
    )
    assert created.status_code == 201, created.json
    assert created.json["status"] == "approved"
    timeline = admin.get("/api/v1/stations/13285/timeline?from=2026-04-21&to=2026-04-21")
    assert timeline.status_code == 200
    assert [(e["start"], e["outcome"]) for e in timeline.json] == [
        ("2026-04-21T06:00:00+07:00", "scheduled")
    ]


def test_front_page_is_the_panel_login_in_vietnamese(app):
    client = app.test_client()
    response = client.get("/")
    assert response.status_code == 302
    assert response.location.startswith("/login")
    page = client.get(response.location).get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Đăng nhập" in page
