"""Email: messages written to the outbox with the event they tell of, sent by a job."""
