"""The terminal face: a Textual app over the services; database work runs in thread workers."""
