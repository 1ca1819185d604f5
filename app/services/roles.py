"""The built-in roles the faces offer when a user is added (`user add --role`). Faces
never name a permission: they ask the operation registry (`operations.refusal`)."""

from models.permissions import BUILTIN_ROLES, SIGNER

__all__ = ["BUILTIN_ROLES", "SIGNER"]
