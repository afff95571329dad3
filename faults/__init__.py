"""Fault scripts (`make faults`): each breaks one part under the running portal and proves that
every due SLA breach is recorded exactly once and no notification or e-mail is lost or doubled."""
