using System.Runtime.CompilerServices;

namespace Mailroom.Mail.Tests.Inbound;

/// <summary>The product registers the code pages at start, before MimeKit parses anything (MailroomApp.Build); the test
/// assembly does the same when it loads, so the order of tests cannot matter.</summary>
internal static class CharsetsSetup
{
#pragma warning disable CA2255 // the test assembly is the application here
    [ModuleInitializer]
    internal static void Register() => Mailroom.Mail.Inbound.Charsets.Register();
#pragma warning restore CA2255
}
