"""What a campaign put on the air (docs/api.md "Reports": ``/reports/campaign``, issue #10).

Built on :mod:`scheduler.compliance` (the same planned airings and outcomes, filtered to the
programmes that carry the campaign's segments). A programme airing is attributed to each of
the campaign's topics it carries, in proportion to that topic's segments' share of the
programme's length — a 15-minute programme with 10 minutes on lifelong learning and 5 on
reading adds 10 and 5 aired minutes to those topics, and one airing to each. Observances
(campaigns with an ``annual`` date: Ngày Sách 21/4, the Lifelong Learning Week 1–7/10) that
fall inside the period are listed as the key dates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.compliance import Period, Report
from scheduler.models import Campaign, MediaFile, Program, ProgramItem, Segment, Station, Topic


@dataclass
class TopicTally:
    broadcasts: set[int] = field(default_factory=set)
    airings: int = 0
    planned_s: float = 0.0
    aired_s: float = 0.0

    def merge(self, other: TopicTally) -> None:
        self.broadcasts |= other.broadcasts
        self.airings += other.airings
        self.planned_s += other.planned_s
        self.aired_s += other.aired_s


@dataclass
class CampaignRow:
    station: Station
    topics: dict[str, TopicTally] = field(default_factory=lambda: defaultdict(TopicTally))
    total: TopicTally = field(default_factory=TopicTally)


@dataclass(frozen=True)
class KeyDate:
    first: date
    last: date
    name: str


@dataclass
class CampaignReport:
    campaign: Campaign
    topics: list[Topic]
    key_dates: list[KeyDate]
    by_topic: dict[str, TopicTally]
    rows: list[CampaignRow]  # parents before children, as the compliance report's
    period: Period


def campaign_report(session: Session, campaign: Campaign, report: Report) -> CampaignReport:
    """``report`` must be the compliance report filtered to ``campaign``."""
    shares = _topic_shares(
        session,
        campaign,
        {o.planned.airing.program for found in report.outcomes.values() for o in found},
    )
    rows = {r.station.code: CampaignRow(r.station) for r in report.rows}
    by_topic: dict[str, TopicTally] = defaultdict(TopicTally)
    for code, found in report.outcomes.items():
        for outcome in found:
            if outcome.status == "upcoming":
                continue
            airing = outcome.planned.airing
            for topic, share in shares.get(airing.program or 0, {}).items():
                one = TopicTally(
                    {airing.broadcast}, 1, outcome.planned.seconds * share, outcome.aired_s * share
                )
                rows[code].topics[topic].merge(one)
                by_topic[topic].merge(one)
            if shares.get(airing.program or 0):
                whole = TopicTally({airing.broadcast}, 1, outcome.planned.seconds, outcome.aired_s)
                rows[code].total.merge(whole)
    for station in sorted((r.station for r in report.rows), key=lambda s: -s.depth):
        parent = station.parent.code if station.parent is not None else None
        if parent in rows:
            child, up = rows[station.code], rows[parent]
            for topic, tally in child.topics.items():
                up.topics[topic].merge(tally)
            up.total.merge(child.total)
    topics = sorted(campaign.topics, key=lambda t: t.position)
    return CampaignReport(
        campaign,
        topics,
        key_dates(session, report.period.first, report.period.last),
        dict(by_topic),
        list(rows.values()),
        report.period,
    )


def _topic_shares(
    session: Session, campaign: Campaign, programs: set[int | None]
) -> dict[int, dict[str, float]]:
    """Per programme: the campaign's topics it carries, each with its share of the length."""
    wanted = [p for p in programs if p is not None]
    if not wanted:
        return {}
    rows = session.execute(
        select(ProgramItem.program_id, Topic.code, MediaFile.duration_ms, Program.duration_ms)
        .join(Segment, ProgramItem.segment_id == Segment.id)
        .join(MediaFile, Segment.media_file_id == MediaFile.id)
        .join(Program, ProgramItem.program_id == Program.id)
        .outerjoin(Topic, Segment.topic_id == Topic.id)
        .where(ProgramItem.program_id.in_(wanted), Segment.campaign_id == campaign.id)
    )
    shares: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for program, topic, segment_ms, program_ms in rows:
        if program_ms:
            shares[program][topic or ""] += min(1.0, segment_ms / program_ms)
    return {p: dict(t) for p, t in shares.items()}


def key_dates(session: Session, first: date, last: date) -> list[KeyDate]:
    """Every observance (a campaign with ``annual`` "MM-DD" or "MM-DD/MM-DD") in the period."""
    found = []
    for campaign in session.scalars(select(Campaign).where(Campaign.annual.is_not(None))):
        assert campaign.annual is not None
        start_md, _, end_md = campaign.annual.partition("/")
        for year in range(first.year, last.year + 1):
            try:
                start = date.fromisoformat(f"{year}-{start_md}")
                end = date.fromisoformat(f"{year}-{end_md or start_md}")
            except ValueError:
                continue  # 02-29 in a common year
            if start <= last and end >= first:
                found.append(KeyDate(start, end, campaign.name))
    return sorted(found, key=lambda k: k.first)


def minutes(seconds: float) -> float:
    return round(seconds / 60, 1)
