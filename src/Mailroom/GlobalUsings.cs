// The Mailroom namespaces most of the executable's files use (API, pages, workers), declared once.
global using Mailroom.Contracts;
global using Mailroom.Core;
global using Mailroom.Core.Accounts;
