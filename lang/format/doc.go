// Package format owns canonical formatting of cumulus files (`cumulus fmt`).
//
// The layout itself is hclwrite's, so that cumulus files look like every other
// HCL file a user edits. On top of it this package does the whitespace tidying
// that terraform fmt users expect but hclwrite leaves alone: \n line endings,
// no trailing whitespace, no leading blank lines, at most one blank line in a
// row and exactly one newline at the end.
//
// A formatter that users run on every save must never damage a file, so:
// a file that does not parse is refused rather than guessed at; heredoc bodies
// and string literals are never touched; and every result is checked to hold
// the same tokens as its input before it is handed back, so a formatting bug
// shows up as a diagnostic instead of a silently changed configuration.
//
// The one deliberate change beyond whitespace between tokens is CRLF: it
// becomes LF everywhere, heredoc bodies included, so a heredoc in a file saved
// with Windows line endings loses the carriage returns from its value. That is
// nearly always what the author meant, and the alternative, a file with mixed
// line endings, would be worse.
package format
