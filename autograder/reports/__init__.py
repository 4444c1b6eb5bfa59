"""What people read: a results document rendered as Markdown, HTML and terminal text."""
