"""Initial catalog: tokens, flights, runs, issues, review actions.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
    )
    op.create_table(
        "flights",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("orthophoto_path", sa.Text, nullable=False),
        sa.Column("areas_path", sa.Text),
        sa.Column("cog_path", sa.Text),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("crs_wkt", sa.Text, nullable=False),
        sa.Column("crs", sa.String(100), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("bounds_wgs84", sa.JSON, nullable=False),
        sa.Column("gsd_m", sa.Float, nullable=False),
        sa.Column("rgb_range", sa.JSON),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("flight_id", sa.String(32), sa.ForeignKey("flights.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("out_dir", sa.Text),
        sa.Column("counts", sa.JSON),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS),
        sa.Column("finished_at", TS),
    )
    op.create_table(
        "issues",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("flight_id", sa.String(32), sa.ForeignKey("flights.id", ondelete="CASCADE"), nullable=False),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("pipeline_id", sa.String(32), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("subtype", sa.String(32)),
        sa.Column("severity", sa.String(1), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("length_m", sa.Float),
        sa.Column("area_m2", sa.Float, nullable=False),
        sa.Column("mean_width_m", sa.Float),
        sa.Column("max_width_m", sa.Float),
        sa.Column("geom_wkb", sa.LargeBinary, nullable=False),
        sa.Column("geojson", sa.Text, nullable=False),
        sa.Column("west", sa.Float, nullable=False),
        sa.Column("south", sa.Float, nullable=False),
        sa.Column("east", sa.Float, nullable=False),
        sa.Column("north", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_issues_flight_bbox", "issues", ["flight_id", "west", "south", "east", "north"])
    op.create_table(
        "review_actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("issue_id", sa.String(32), sa.ForeignKey("issues.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("previous_status", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("review_actions", "issues", "runs", "flights", "tokens"):
        op.drop_table(table)
