"""Local infrastructure runner for Fupin (`fupin-dev up | down | status | logs | env`)."""
