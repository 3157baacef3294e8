"""protocol-bot: guided inter-agency protocols for children's social care regulation staff."""

__version__ = "0.1.0"
