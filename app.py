"""Steward: donations, contact and email signups for a nonprofit. Registration only."""

from chalice.app import Chalice

from chalicelib import logs, snapstart
from chalicelib.api import (
    campaigns,
    donations,
    donor,
    events,
    export_jobs,
    outreach,
    payouts,
    public,
    staff,
    webhooks,
)
from chalicelib.api.errors import http_middleware
from chalicelib.collector import resume_after_first_event

app = Chalice(app_name="steward", configure_logs=False)
logs.configure()  # every line JSON (chalicelib/logs.py)
app.register_middleware(logs.invocation, "all")  # first: the request ids wrap every handler
# the cold start's paused collector resumes; around http_middleware, which answers some
# requests (a body refused, 413 or 415) without calling the view
app.register_middleware(resume_after_first_event)
app.register_middleware(http_middleware, "http")
app.api.binary_types.append("application/pdf")  # the receipt PDF
for blueprint in (
    public.bp,
    campaigns.bp,
    donations.bp,
    webhooks.bp,
    outreach.bp,
    staff.bp,
    payouts.bp,
    donor.bp,
    events.bp,
    export_jobs.bp,
):
    app.register_blueprint(blueprint)
snapstart.prepare()  # only where Lambda SnapStart snapshots this init (chalicelib/snapstart.py)
