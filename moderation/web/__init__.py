"""The moderators' pages at /moderate: server-rendered Jinja2 templates, one
style sheet and one plain script (``static/``), sessions with CSRF protection
(``session``), thin handlers (``views``)."""
