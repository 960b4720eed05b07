"""Initial schema: riders, bikes, orders, deposits, tickets, ticket events, hand-offs, surveys.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

# Copied (not imported) from the models: a migration must keep meaning what it meant when
# it was written, even after the models change.
ACTIVE_TICKETS = "status IN ('open', 'in_progress')"
ACTIVE_HANDOFFS = "status IN ('waiting', 'claimed')"


def _utc():
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "riders",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(64)),
        sa.Column("phone", sa.String(32)),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_riders"),
    )
    op.create_table(
        "bikes",
        sa.Column("number", sa.String(9), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("brand", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_place", sa.String(128)),
        sa.CheckConstraint("length(number) = 9", name=op.f("ck_bikes_number_9_digits")),
        sa.CheckConstraint("kind IN ('bike', 'ebike')", name=op.f("ck_bikes_kind")),
        sa.CheckConstraint(
            "status IN ('in_service', 'reported', 'maintenance')", name=op.f("ck_bikes_status")
        ),
        sa.PrimaryKeyConstraint("number", name="pk_bikes"),
    )
    op.create_table(
        "orders",
        sa.Column("number", sa.String(12), nullable=False),
        sa.Column("rider_id", sa.String(128), nullable=False),
        sa.Column("bike_number", sa.String(9), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("ended_at", _utc()),
        sa.Column("start_place", sa.String(128)),
        sa.Column("end_place", sa.String(128)),
        sa.Column("duration_minutes", sa.Integer()),
        sa.Column("ride_fee_fen", sa.Integer(), nullable=False),
        sa.Column("dispatch_fee_fen", sa.Integer(), nullable=False),
        sa.Column("discount_fen", sa.Integer(), nullable=False),
        sa.Column("total_fen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payment", sa.String(16)),
        sa.Column("note", sa.Text()),
        sa.CheckConstraint("length(number) = 12", name=op.f("ck_orders_number_12_digits")),
        sa.CheckConstraint(
            "status IN ('riding', 'completed', 'disputed', 'refunded')", name=op.f("ck_orders_status")
        ),
        sa.CheckConstraint(
            "payment IS NULL OR payment IN ('ride_card', 'balance', 'wechat', 'alipay')",
            name=op.f("ck_orders_payment"),
        ),
        sa.CheckConstraint(
            "ride_fee_fen >= 0 AND dispatch_fee_fen >= 0 AND discount_fen >= 0 AND total_fen >= 0",
            name=op.f("ck_orders_money_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["rider_id"], ["riders.id"], name="fk_orders_rider_id_riders"
        ),
        sa.ForeignKeyConstraint(
            ["bike_number"], ["bikes.number"], name="fk_orders_bike_number_bikes"
        ),
        sa.PrimaryKeyConstraint("number", name="pk_orders"),
    )
    op.create_index("ix_orders_rider_started", "orders", ["rider_id", "started_at"])

    op.create_table(
        "deposits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rider_id", sa.String(128), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("paid_at", _utc(), nullable=False),
        sa.Column("refund_requested_at", _utc()),
        sa.Column("refunded_at", _utc()),
        sa.CheckConstraint(
            "status IN ('held', 'refund_requested', 'refunded')", name=op.f("ck_deposits_status")
        ),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_deposits_amount_positive")),
        sa.ForeignKeyConstraint(
            ["rider_id"], ["riders.id"], name="fk_deposits_rider_id_riders"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_deposits"),
    )
    op.create_index("ix_deposits_rider_id", "deposits", ["rider_id"])

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("department", sa.String(16), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("due_at", _utc(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("place", sa.String(128)),
        sa.Column("fault_part", sa.String(32)),
        sa.Column("bike_number", sa.String(9)),
        sa.Column("order_number", sa.String(12)),
        sa.Column("rider_id", sa.String(128), nullable=False),
        sa.Column("conversation_id", sa.String(128)),
        sa.Column("subject_key", sa.String(255), nullable=False),
        sa.Column("resolution", sa.Text()),
        sa.CheckConstraint(
            "category IN ('fault', 'order_dispute', 'parking_dispute', 'deposit', "
            "'complaint', 'safety', 'callback', 'other')",
            name=op.f("ck_tickets_category"),
        ),
        sa.CheckConstraint(
            "priority IN ('urgent', 'high', 'normal', 'low')", name=op.f("ck_tickets_priority")
        ),
        sa.CheckConstraint(
            "department IN ('maintenance', 'billing', 'operations', 'customer_care', 'safety')",
            name=op.f("ck_tickets_department"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'resolved', 'closed')", name=op.f("ck_tickets_status")
        ),
        sa.ForeignKeyConstraint(
            ["bike_number"], ["bikes.number"], name="fk_tickets_bike_number_bikes"
        ),
        sa.ForeignKeyConstraint(
            ["order_number"], ["orders.number"], name="fk_tickets_order_number_orders"
        ),
        sa.ForeignKeyConstraint(
            ["rider_id"], ["riders.id"], name="fk_tickets_rider_id_riders"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
        sa.UniqueConstraint("number", name="uq_tickets_number"),
    )
    op.create_index("ix_tickets_rider_id", "tickets", ["rider_id"])
    op.create_index("ix_tickets_status_due", "tickets", ["status", "due_at"])
    # At most one open/in-progress ticket per subject: the database half of idempotency.
    op.create_index(
        "ux_tickets_active_subject",
        "tickets",
        ["subject_key"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_TICKETS),
        postgresql_where=sa.text(ACTIVE_TICKETS),
    )

    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("from_status", sa.String(12)),
        sa.Column("to_status", sa.String(12)),
        sa.Column("note", sa.Text()),
        sa.Column("author", sa.String(64), nullable=False),
        sa.CheckConstraint(
            "kind IN ('created', 'status', 'note')", name=op.f("ck_ticket_events_kind")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_ticket_events_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_events"),
    )
    op.create_index("ix_ticket_events_ticket_id", "ticket_events", ["ticket_id"])

    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("rider_id", sa.String(128), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("category", sa.String(20)),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("claimed_at", _utc()),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("resolved_at", _utc()),
        sa.CheckConstraint(
            "reason IN ('requested', 'fallback', 'form_failure', 'safety', 'anger', 'other')",
            name=op.f("ck_handoffs_reason"),
        ),
        sa.CheckConstraint(
            "priority IN ('urgent', 'high', 'normal', 'low')", name=op.f("ck_handoffs_priority")
        ),
        sa.CheckConstraint(
            "status IN ('waiting', 'claimed', 'resolved', 'abandoned')",
            name=op.f("ck_handoffs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["rider_id"], ["riders.id"], name="fk_handoffs_rider_id_riders"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_handoffs"),
    )
    op.create_index("ix_handoffs_rider_id", "handoffs", ["rider_id"])
    op.create_index("ix_handoffs_status_created", "handoffs", ["status", "created_at"])
    # One active hand-off per conversation: repeated 转人工 requests join the same place.
    op.create_index(
        "ux_handoffs_active_conversation",
        "handoffs",
        ["conversation_id"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_HANDOFFS),
        postgresql_where=sa.text(ACTIVE_HANDOFFS),
    )

    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("rider_id", sa.String(128), nullable=False),
        sa.Column("handoff_id", sa.Integer()),
        sa.Column("agent", sa.String(64)),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text()),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("survey_key", sa.String(255), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_survey_responses_rating_1_to_5")),
        sa.ForeignKeyConstraint(
            ["rider_id"], ["riders.id"], name="fk_survey_responses_rider_id_riders"
        ),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.id"], name="fk_survey_responses_handoff_id_handoffs"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_survey_responses"),
        sa.UniqueConstraint("survey_key", name="uq_survey_responses_survey_key"),
    )
    op.create_index(
        "ix_survey_responses_conversation_id", "survey_responses", ["conversation_id"]
    )


def downgrade() -> None:
    # Reverse dependency order so foreign keys never dangle.
    op.drop_index("ix_survey_responses_conversation_id", table_name="survey_responses")
    op.drop_table("survey_responses")
    op.drop_index("ux_handoffs_active_conversation", table_name="handoffs")
    op.drop_index("ix_handoffs_status_created", table_name="handoffs")
    op.drop_index("ix_handoffs_rider_id", table_name="handoffs")
    op.drop_table("handoffs")
    op.drop_index("ix_ticket_events_ticket_id", table_name="ticket_events")
    op.drop_table("ticket_events")
    op.drop_index("ux_tickets_active_subject", table_name="tickets")
    op.drop_index("ix_tickets_status_due", table_name="tickets")
    op.drop_index("ix_tickets_rider_id", table_name="tickets")
    op.drop_table("tickets")
    op.drop_index("ix_deposits_rider_id", table_name="deposits")
    op.drop_table("deposits")
    op.drop_index("ix_orders_rider_started", table_name="orders")
    op.drop_table("orders")
    op.drop_table("bikes")
    op.drop_table("riders")
