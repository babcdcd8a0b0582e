namespace Mailroom.Tests.Infrastructure;

/// <summary>An independent DKIM check: Debian's python3-dkim (dkimpy) through
/// <c>tests/Mailroom.Mail.Tests/Dkim/verify_dkim.py</c>, answering the key query for <c>dnsName</c> with <c>txt</c>.</summary>
public static class PythonDkim
{
    /// <summary>"pass" or "fail" for the first DKIM-Signature of <paramref name="message"/>.</summary>
    public static async Task<string> VerifyAsync(byte[] message, string txt, string dnsName)
    {
        var file = Path.Combine(Path.GetTempPath(), $"dkim-{Guid.NewGuid():N}.eml");
        await File.WriteAllBytesAsync(file, message);
        try
        {
            var script = Path.Combine(TestPaths.RepoRoot, "tests", "Mailroom.Mail.Tests", "Dkim", "verify_dkim.py");
            var result = await MailroomProcess.RunAsync("/bin/sh", ["-c", "/usr/bin/python3 \"$0\" \"$1\" \"$2\" < \"$3\"", script, txt, dnsName, file]);
            Assert.True(result.ExitCode == 0, "python3-dkim is needed (apt-get install python3-dkim): " + result);
            return result.StandardOutput.Trim();
        }
        finally
        {
            File.Delete(file);
        }
    }
}
