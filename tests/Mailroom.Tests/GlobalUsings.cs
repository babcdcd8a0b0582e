// The namespaces nearly every test file uses, declared once (the rest stay in the files that need them).
global using System.Net;
global using System.Net.Http.Json;
global using System.Text;
global using System.Text.Json;
global using Mailroom.Core.Storage;
global using Mailroom.Testing;
global using Mailroom.Tests.Infrastructure;
global using Microsoft.EntityFrameworkCore;
global using Microsoft.Extensions.DependencyInjection;
global using Xunit;
