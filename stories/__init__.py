"""Stories: which articles report the same alleged contact, and which are copies of
another outlet's text. Plain functions over articles' text and dates; the archive
applies them to what it stores."""
