"""The kernel side: discovery, the reconnecting client, ConfigProvider, widgets, magics."""
