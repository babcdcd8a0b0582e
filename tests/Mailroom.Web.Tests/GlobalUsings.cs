global using Xunit;
global using Mailroom.Testing;
global using System.Net.Http.Json;
global using Mailroom.Tests.Infrastructure;
global using Microsoft.Playwright;
