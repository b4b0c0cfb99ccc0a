# Nothing but a comment.
# expect: E0201 1:1
# expect: E0222 1:1
# expect: E0223 1:1
