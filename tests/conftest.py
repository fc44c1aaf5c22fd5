pytest_plugins = ["jupyter_hotconf.pytest_plugin"]
