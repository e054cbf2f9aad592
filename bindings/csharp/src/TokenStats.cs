using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace HcToken
{
    /// <summary>
    /// A client's counters, as <c>hct_client_stats_json</c> reports them (include/hctoken.h documents
    /// every field). Counted on slow paths only: a token served from the cache counts nothing.
    /// </summary>
    public sealed class TokenStats
    {
        /// <summary>Token requests sent (every attempt, retries included).</summary>
        public long TokenRequests { get; private set; }

        /// <summary>Fetches (each may take several attempts).</summary>
        public long Fetches { get; private set; }

        /// <summary>Failed fetches by status name, e.g. "HCT_ERR_OAUTH".</summary>
        public IReadOnlyDictionary<string, long> Failures { get; private set; }

        /// <summary>Refreshes started in the refresh window, while the old token was still valid.</summary>
        public long EarlyRefreshes { get; private set; }

        /// <summary>Early refreshes that failed (the valid token kept being served).</summary>
        public long EarlyRefreshFailures { get; private set; }

        /// <summary>Callers that waited for another thread's fetch instead of sending their own.</summary>
        public long StampedeJoins { get; private set; }

        /// <summary>Calls answered from a remembered refusal (negative caching).</summary>
        public long NegativeCacheAnswers { get; private set; }

        /// <summary>How long the last fetch took; null before the first.</summary>
        public TimeSpan? LastFetchLatency { get; private set; }

        /// <summary>How long the cached token stays valid; null when none is.</summary>
        public TimeSpan? TokenTimeLeft { get; private set; }

        /// <summary>The status name of the last failure; null when nothing has failed.</summary>
        public string LastErrorStatus { get; private set; }

        /// <summary>Reads the library's JSON (one object of numbers, null, strings and one nested
        /// object of numbers). Unknown fields of those kinds, which later versions may add, are
        /// skipped.</summary>
        internal static TokenStats Parse(string json)
        {
            var reader = new Reader(json);
            var stats = new TokenStats { Failures = new Dictionary<string, long>() };
            reader.Expect('{');
            if (reader.TryConsume('}'))
            {
                return stats;
            }
            do
            {
                string name = reader.String();
                reader.Expect(':');
                switch (name)
                {
                    case "failures":
                        stats.Failures = reader.NumberObject();
                        break;
                    case "last_error_status":
                        stats.LastErrorStatus = reader.NullOrString();
                        break;
                    default:
                        if (reader.Peek('"'))
                        {
                            reader.String();
                        }
                        else if (reader.Peek('{'))
                        {
                            reader.NumberObject();
                        }
                        else
                        {
                            stats.Set(name, reader.NullOrNumber());
                        }
                        break;
                }
            }
            while (reader.TryConsume(','));
            reader.Expect('}');
            return stats;
        }

        private void Set(string name, double? number)
        {
            long count = number.HasValue ? (long)number.Value : 0;
            switch (name)
            {
                case "token_requests": TokenRequests = count; break;
                case "fetches": Fetches = count; break;
                case "early_refreshes": EarlyRefreshes = count; break;
                case "early_refresh_failures": EarlyRefreshFailures = count; break;
                case "stampede_joins": StampedeJoins = count; break;
                case "negative_cache_answers": NegativeCacheAnswers = count; break;
                case "last_fetch_latency_ms":
                    LastFetchLatency = number.HasValue ? TimeSpan.FromTicks((long)(number.Value * TimeSpan.TicksPerMillisecond)) : (TimeSpan?)null;
                    break;
                case "token_seconds_left":
                    TokenTimeLeft = number.HasValue ? TimeSpan.FromSeconds(number.Value) : (TimeSpan?)null;
                    break;
            }
        }

        /// <summary>Just enough JSON for the stats object.</summary>
        private sealed class Reader
        {
            private readonly string text;
            private int at;

            internal Reader(string text)
            {
                this.text = text ?? throw new ArgumentNullException(nameof(text));
            }

            private void SkipSpace()
            {
                while (at < text.Length && char.IsWhiteSpace(text[at]))
                {
                    at++;
                }
            }

            internal bool TryConsume(char c)
            {
                SkipSpace();
                if (at < text.Length && text[at] == c)
                {
                    at++;
                    return true;
                }
                return false;
            }

            internal bool Peek(char c)
            {
                SkipSpace();
                return at < text.Length && text[at] == c;
            }

            internal void Expect(char c)
            {
                if (!TryConsume(c))
                {
                    throw Bad("'" + c + "'");
                }
            }

            internal string String()
            {
                Expect('"');
                var value = new StringBuilder();
                while (at < text.Length && text[at] != '"')
                {
                    char c = text[at++];
                    if (c == '\\' && at < text.Length)
                    {
                        char escaped = text[at++];
                        if (escaped == 'u' && at + 4 <= text.Length)
                        {
                            value.Append((char)int.Parse(text.Substring(at, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                            at += 4;
                        }
                        else
                        {
                            value.Append(escaped == 'n' ? '\n' : escaped == 't' ? '\t' : escaped);
                        }
                    }
                    else
                    {
                        value.Append(c);
                    }
                }
                Expect('"');
                return value.ToString();
            }

            internal string NullOrString()
            {
                SkipSpace();
                if (TryLiteral("null"))
                {
                    return null;
                }
                return String();
            }

            internal double? NullOrNumber()
            {
                SkipSpace();
                if (TryLiteral("null"))
                {
                    return null;
                }
                int start = at;
                while (at < text.Length && "+-0123456789.eE".IndexOf(text[at]) >= 0)
                {
                    at++;
                }
                double number;
                if (!double.TryParse(text.Substring(start, at - start), NumberStyles.Float, CultureInfo.InvariantCulture, out number))
                {
                    throw Bad("a number");
                }
                return number;
            }

            internal Dictionary<string, long> NumberObject()
            {
                var values = new Dictionary<string, long>();
                Expect('{');
                if (TryConsume('}'))
                {
                    return values;
                }
                do
                {
                    string name = String();
                    Expect(':');
                    values[name] = (long)(NullOrNumber() ?? 0);
                }
                while (TryConsume(','));
                Expect('}');
                return values;
            }

            private bool TryLiteral(string literal)
            {
                if (string.CompareOrdinal(text, at, literal, 0, literal.Length) == 0)
                {
                    at += literal.Length;
                    return true;
                }
                return false;
            }

            private FormatException Bad(string expected)
            {
                return new FormatException("hctoken stats: expected " + expected + " at offset " + at);
            }
        }
    }
}
