"""SQLModel tables: the whole domain, one module per dimension.

Importing this package registers every table on ``SQLModel.metadata``, which Alembic's
``env.py`` and the tests compare against the migrations.
"""

from sqlmodel import SQLModel

from tricrm_tui.models.customers import (
    CONSENT_CHANNELS,
    CUSTOMER_KINDS,
    ChangeCounter,
    Customer,
    CustomerTag,
    MergeRecord,
    NotDuplicate,
    Segment,
)
from tricrm_tui.models.interactions import (
    CHANNELS,
    FOLLOWUP_STATUSES,
    Campaign,
    CampaignSend,
    CareRule,
    CommunicationPlan,
    Feedback,
    FollowUp,
    Interaction,
)
from tricrm_tui.models.journeys import Journey, JourneyStage, StageEvent, Touchpoint
from tricrm_tui.models.orders import Order, OrderLine, Product, ProductCategory
from tricrm_tui.models.security import AuditEntry, ImportBatch, Operator, Role
from tricrm_tui.models.value import LevelChange, LoyaltyEntry, MemberLevel, ValueSnapshot

metadata = SQLModel.metadata

__all__ = [
    "CHANNELS",
    "CONSENT_CHANNELS",
    "CUSTOMER_KINDS",
    "FOLLOWUP_STATUSES",
    "AuditEntry",
    "Campaign",
    "CampaignSend",
    "CareRule",
    "ChangeCounter",
    "CommunicationPlan",
    "Customer",
    "CustomerTag",
    "Feedback",
    "FollowUp",
    "ImportBatch",
    "Interaction",
    "Journey",
    "JourneyStage",
    "LevelChange",
    "LoyaltyEntry",
    "MemberLevel",
    "MergeRecord",
    "NotDuplicate",
    "Operator",
    "Order",
    "OrderLine",
    "Product",
    "ProductCategory",
    "Role",
    "Segment",
    "StageEvent",
    "Touchpoint",
    "ValueSnapshot",
    "metadata",
]
