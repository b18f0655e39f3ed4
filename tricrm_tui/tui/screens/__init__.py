"""One screen per module; each reads the service context from ``self.app.ctx``."""
