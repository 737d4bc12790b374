"""The 1:1 helpline: visitors, the queue, conversations with advisers, staff accounts."""
