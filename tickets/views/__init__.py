"""Ticket pages: the customer portal, the staff workspace, attachments and notifications."""
