"""The scheduling domain: database models, recurrence, the timeline resolver, services."""
