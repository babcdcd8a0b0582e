global using Xunit;
global using Mailroom.Testing;
