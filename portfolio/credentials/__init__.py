"""The credential register: what allows an assessor to assess a unit on a given day."""
