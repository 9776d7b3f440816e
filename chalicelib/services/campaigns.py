"""A public campaign's progress: its goal, the amount raised and the donor count, read from the
one progress item the totals stream keeps (services/totals.py); never from the gifts."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.campaigns import Campaign, is_campaign_id
from chalicelib.domain.errors import NotFoundError
from chalicelib.services.totals import TotalsStore


@dataclass(frozen=True)
class CampaignProgress:
    campaign: Campaign
    raised: int  # paid, less refunds and lost disputes, in the goal's currency
    donors: int  # distinct donors with a gift that counts

    def as_dict(self) -> dict[str, object]:
        c = self.campaign
        return {
            "id": c.id,
            "title": c.title,
            "goal": c.goal,
            "currency": c.currency,
            "raised": self.raised,
            "donors": self.donors,
        }


def campaign_progress(
    campaign_id: str, *, campaigns: tuple[Campaign, ...], store: TotalsStore
) -> CampaignProgress:
    """One GetItem. Only configured campaigns are public: any other id is a 404 naming it."""
    if not is_campaign_id(campaign_id):
        raise NotFoundError(
            "no such campaign", fields=[{"field": "campaign_id", "message": "not a campaign id"}]
        )
    campaign = next((c for c in campaigns if c.id == campaign_id), None)
    if campaign is None:
        raise NotFoundError(
            "no such campaign", fields=[{"field": "campaign_id", "message": "no public campaign has this id"}]
        )
    progress = store.progress(campaign.id, campaign.currency)
    return CampaignProgress(campaign, progress.raised, progress.donors)
