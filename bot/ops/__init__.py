"""Running the bot for a community: metrics, health checks, the doctor command, abuse limits, log format."""
