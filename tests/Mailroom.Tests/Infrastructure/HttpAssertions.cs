namespace Mailroom.Tests.Infrastructure;

public static class HttpAssertions
{
    /// <summary>Asserts HTTP 200 and returns the parsed JSON body.</summary>
    public static async Task<JsonElement> OkJson(this Task<HttpResponseMessage> call)
    {
        var res = await call;
        var body = await res.Content.ReadAsStringAsync();
        Assert.True(res.StatusCode == HttpStatusCode.OK, $"Expected 200, got {(int)res.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Asserts a Postmark error: the HTTP status and ErrorCode; returns the message.</summary>
    public static async Task<string> Error(this Task<HttpResponseMessage> call, int httpStatus, int errorCode)
    {
        var res = await call;
        var body = await res.Content.ReadAsStringAsync();
        Assert.True((int)res.StatusCode == httpStatus, $"Expected HTTP {httpStatus}, got {(int)res.StatusCode}: {body}");
        Assert.StartsWith("application/json", res.Content.Headers.ContentType?.MediaType ?? "");
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal(errorCode, json.GetProperty("ErrorCode").GetInt32());
        var message = json.GetProperty("Message").GetString();
        Assert.False(string.IsNullOrWhiteSpace(message));
        return message!;
    }

    public static StringContent JsonBody(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
