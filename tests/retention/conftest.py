"""A decided enrolment built through the real services, shared with the export tests."""

from tests.exports.conftest import decided  # noqa: F401
