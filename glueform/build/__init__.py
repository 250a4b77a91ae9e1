"""Building: a plan's nodes run on an engine in dependency order, each output committed to the
catalog only once written in full (runner), with job bookmarks and data-version retention."""
