"""The contact form: store the message, route it to the program's inbox, acknowledge it."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from email.utils import formataddr

from chalicelib.config import Topic
from chalicelib.domain.errors import (
    ConcurrentUpdateError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationFailedError,
)
from chalicelib.domain.ids import new_id
from chalicelib.domain.outreach_forms import ContactForm
from chalicelib.domain.outreach_records import ContactMessage, ContactStatus
from chalicelib.domain.tokens import FORM_TOKEN_MAX_AGE_SECONDS, hash_ip
from chalicelib.metrics import business_event
from chalicelib.services.clock import Clock, epoch_seconds, utc_now
from chalicelib.services.forms import FormRules, screen_form
from chalicelib.services.outreach_ports import OutboxMessage, OutreachRepository, Page


def submit_contact(
    request: ContactForm,
    source_ip: str,
    *,
    repo: OutreachRepository,
    rules: FormRules,
    topics: dict[str, Topic],
    now: Clock = utc_now,
) -> None:
    screening = screen_form(
        "contact", request.email, request.form_token, request.honeypot, source_ip, rules=rules
    )
    if not screening.accepted:  # a bot's: its counts only
        repo.take_rate_hits(screening.hits)
        return
    topic = topics[request.topic]
    timestamp = now()
    message = ContactMessage(
        id=new_id(),
        name=request.name,
        email=request.email,
        topic=topic.id,
        subject=request.subject,
        message=request.message,
        created_at=timestamp,
        updated_at=timestamp,
        ip_hmac=hash_ip(rules.keys, source_ip),
    )
    context = {
        "name": message.name,
        "email": message.email,
        "topic_name": topic.name,
        "subject": message.subject,
        "message": message.message,
        "contact_id": message.id,
    }
    emails = [
        OutboxMessage(
            id=new_id(),
            template="contact_program",
            to=topic.inbox,
            created_at=timestamp,
            reply_to=formataddr((message.name, message.email)),
            context=context,
        ),
        OutboxMessage(
            id=new_id(), template="contact_ack", to=message.email, created_at=timestamp, context=context
        ),
    ]
    digest = hashlib.sha256(request.content().encode()).hexdigest()
    expires_at = epoch_seconds(timestamp) + FORM_TOKEN_MAX_AGE_SECONDS
    try:  # one round trip: the counts, the submission mark, the message and its emails
        repo.create_contact(message, emails, digest, expires_at, hits=screening.hits)
    except ConflictError:  # the same form sent again (a retry or a replay): stored once, mailed once
        repo.take_rate_hits(screening.hits)  # and counted again, as every submission is
    else:
        business_event("contact_received", "contact message received", contact_id=message.id, topic=topic.id)


def programs_for(roles: frozenset[str], topics: dict[str, Topic]) -> list[str]:
    """The topics a staff member may read: all for admin, else their program:<topic> roles."""
    if "admin" in roles:
        return list(topics)
    return [r.removeprefix("program:") for r in roles if r.startswith("program:") and r[8:] in topics]


def list_contacts(
    program: str | None,
    status: ContactStatus,
    limit: int,
    cursor: str | None,
    roles: frozenset[str],
    *,
    repo: OutreachRepository,
    topics: dict[str, Topic],
) -> Page:
    allowed = programs_for(roles, topics)
    if not allowed:  # a program role for a topic not (or no longer) configured
        raise ForbiddenError("your roles name no program of this site")
    if program is None and len(allowed) == 1:
        program = allowed[0]
    if program is None:
        raise ValidationFailedError(
            "name the program to list", fields=[{"field": "program", "message": "required"}]
        )
    if program not in allowed:
        raise ForbiddenError("you may read only your own program's messages")
    return repo.list_contacts(program, status, limit, cursor)


def set_contact_status(
    contact_id: str,
    status: ContactStatus,
    subject: str,
    roles: frozenset[str],
    *,
    repo: OutreachRepository,
    topics: dict[str, Topic],
    now: Clock = utc_now,
) -> ContactMessage:
    if not programs_for(roles, topics):  # refused before the lookup: no probing of ids
        raise ForbiddenError("your roles name no program of this site")
    current = repo.get_contact(contact_id)
    if current is None:
        raise NotFoundError(
            "no message with this id", fields=[{"field": "contact_id", "message": "not found"}]
        )
    if current.topic not in programs_for(roles, topics):
        raise ForbiddenError("this message belongs to another program")
    if current.status == status:
        return current
    timestamp = now()
    changed = replace(current, status=status, updated_at=timestamp, updated_by=subject)
    try:
        repo.save_contact(changed, current.updated_at)
    except ConcurrentUpdateError as exc:
        raise ConflictError("the message changed meanwhile; reload it") from exc
    return changed
