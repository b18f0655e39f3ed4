"""Business rules: plain functions over a ServiceContext, returning plain data (no UI imports)."""
