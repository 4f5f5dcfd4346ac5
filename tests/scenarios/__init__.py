"""Small modules that declare one Function each (or fail to): fixtures for plan tests."""
