"""Steward: donations, contact and email signups for a nonprofit. Registration only."""

from chalice.app import Chalice

from chalicelib.api import donations, events, outreach, public, staff, webhooks
from chalicelib.api.errors import http_middleware

app = Chalice(app_name="steward")
app.register_middleware(http_middleware, "http")
for blueprint in (public.bp, donations.bp, webhooks.bp, outreach.bp, staff.bp, events.bp):
    app.register_blueprint(blueprint)
