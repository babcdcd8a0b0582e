// The process runner is shared with the tests (tests/Mailroom.Testing).
global using Mailroom.Testing;
