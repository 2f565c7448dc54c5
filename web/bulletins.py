"""The e-portal channel (issue #10): bulletins an approver published, for anyone, no login.

``/feeds/bulletins.rss[?campaign=CODE]`` is RSS 2.0 with the iTunes podcast tags (feedgen),
each item's ``enclosure`` naming the MP3's length and type; ``/ban-tin`` is the public page
with a player per bulletin; ``/ban-tin/<id>.mp3`` serves the audio with Range requests.
Only what is published *and* still approved is served — an unpublished or rejected bulletin,
or alert audio, is a 404 here, its file included.
"""

from __future__ import annotations

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from scheduler.errors import DomainError, NotFound
from scheduler.models import Campaign, Segment
from scheduler.segments import published_bulletins, store_for
from web.api.errors import error_response
from web.db import session, settings

bp = Blueprint("bulletins", __name__)
FEED_TITLE = "Bản tin Loa Xã — hệ thống truyền thanh cơ sở"


@bp.errorhandler(DomainError)
def _domain(exc: DomainError) -> ResponseReturnValue:
    if request.path.startswith("/feeds/"):
        return error_response(exc.status, exc.message, exc.field)
    return render_template(
        "public/ban_tin.html", bulletins=[], campaign=None, error=exc.message
    ), exc.status


def _campaign() -> Campaign | None:
    code = request.args.get("campaign") or None
    if code is None:
        return None
    found = session().scalar(select(Campaign).where(Campaign.code == code))
    if found is None:
        raise NotFound(f"campaign: there is no campaign {code!r}", "campaign")
    return found


@bp.get("/feeds/bulletins.rss")
def feed() -> Response:
    campaign = _campaign()
    found = published_bulletins(session(), campaign.code if campaign else None)
    fg = FeedGenerator()
    fg.load_extension("podcast")
    title = f"{FEED_TITLE} — {campaign.name}" if campaign else FEED_TITLE
    fg.title(title)
    scope = {"campaign": campaign.code} if campaign else {}
    fg.link(href=url_for("bulletins.page", _external=True, **scope), rel="alternate")
    fg.description(
        campaign.description or campaign.name
        if campaign
        else "Các bản tin đã được duyệt phát trên hệ thống truyền thanh cơ sở."
    )
    fg.language("vi")
    fg.podcast.itunes_category("Government")
    fg.podcast.itunes_explicit("no")
    for segment in reversed(found):  # feedgen lists the last added first
        media = segment.media_file
        assert media is not None  # published_bulletins keeps only those with audio
        entry = fg.add_entry()
        entry.id(f"loaxa-segment-{segment.id}")
        entry.guid(f"loaxa-segment-{segment.id}", permalink=False)
        entry.title(segment.title)
        entry.link(href=url_for("bulletins.page", _external=True, _anchor=f"b{segment.id}"))
        entry.description(segment.text or segment.title)
        entry.published(segment.published_at)
        entry.enclosure(
            url_for("bulletins.audio", segment_id=segment.id, _external=True),
            str(media.bytes),
            media.mime_type,
        )
        entry.podcast.itunes_duration(round(media.duration_ms / 1000))
        entry.podcast.itunes_author(segment.owner.station_name)
    return Response(fg.rss_str(pretty=True), mimetype="application/rss+xml")


@bp.get("/ban-tin")
def page() -> ResponseReturnValue:
    campaign = _campaign()
    found = published_bulletins(session(), campaign.code if campaign else None)
    return render_template("public/ban_tin.html", bulletins=found, campaign=campaign, error=None)


@bp.get("/ban-tin/<int:segment_id>.mp3")
def audio(segment_id: int) -> Response:
    segment = session().get(Segment, segment_id)
    if (
        segment is None
        or segment.published_at is None
        or segment.approved_at is None
        or segment.for_alert
        or segment.media_file is None
    ):
        raise NotFound("there is no published bulletin with this number")
    media = segment.media_file
    path = store_for(settings()).path_for(media.sha256)
    if not path.exists():
        raise NotFound("the bulletin's audio is missing from the media store")
    return send_file(
        path,
        mimetype=media.mime_type,
        conditional=True,
        etag=media.sha256,
        download_name=f"ban-tin-{segment.id}.mp3",
    )
