using System;
using System.Collections.Generic;

namespace HcToken
{
    /// <summary>
    /// What a <see cref="TokenClient"/> is built from. Each property is one configuration key of the
    /// native library; null means "not set" (the profile's default applies). Any other key
    /// (audience, resource, auth_method, refresh_skew_secs, default_lifetime_secs, timeout_ms,
    /// connect_timeout_ms, ca_file, proxy, user_agent) goes in <see cref="Extra"/>.
    /// </summary>
    public sealed class TokenClientOptions
    {
        /// <summary>
        /// The vendor profile: change-healthcare-v2, change-healthcare-v1, optum-v3, nikohealth or generic.
        /// </summary>
        public string Profile { get; set; }

        /// <summary>The token endpoint URL (overrides the URL a profile derives from Environment or Domain).</summary>
        public string TokenUrl { get; set; }

        /// <summary>sandbox or production, for the Change Healthcare profiles.</summary>
        public string Environment { get; set; }

        /// <summary>The tenant subdomain, for the nikohealth profile.</summary>
        public string Domain { get; set; }

        /// <summary>The OAuth client id.</summary>
        public string ClientId { get; set; }

        /// <summary>The OAuth client secret. Never shown by <see cref="ToString"/>.</summary>
        public string ClientSecret { get; set; }

        /// <summary>The scope to ask for, where the profile takes one.</summary>
        public string Scope { get; set; }

        /// <summary>Any other configuration key of the native library, by its name (e.g. "timeout_ms").</summary>
        public IDictionary<string, string> Extra { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

        /// <summary>A description for logs: the secret is shown only as set or not set.</summary>
        public override string ToString()
        {
            return "TokenClientOptions { Profile = " + Profile
                + ", TokenUrl = " + TokenUrl
                + ", Environment = " + Environment
                + ", Domain = " + Domain
                + ", ClientId = " + ClientId
                + ", ClientSecret = " + (ClientSecret == null ? "(not set)" : "(set)")
                + ", Scope = " + Scope
                + ", Extra keys = [" + (Extra == null ? string.Empty : string.Join(", ", Extra.Keys)) + "] }";
        }

        /// <summary>
        /// The key/value pairs to hand to hct_config_set, profile first so that every later key is
        /// read in the light of its profile.
        /// </summary>
        internal List<KeyValuePair<string, string>> ToConfigEntries()
        {
            var entries = new List<KeyValuePair<string, string>>();
            AddIfSet(entries, "profile", Profile);
            AddIfSet(entries, "environment", Environment);
            AddIfSet(entries, "domain", Domain);
            AddIfSet(entries, "token_url", TokenUrl);
            AddIfSet(entries, "client_id", ClientId);
            AddIfSet(entries, "client_secret", ClientSecret);
            AddIfSet(entries, "scope", Scope);

            if (Extra != null)
            {
                foreach (KeyValuePair<string, string> extra in Extra)
                {
                    if (extra.Key == null)
                    {
                        throw new ArgumentException("Extra must not contain a null key.");
                    }

                    // Two values for one key would leave it unclear which one wins.
                    if (entries.Exists(entry => entry.Key == extra.Key))
                    {
                        throw new ArgumentException(
                            "The key '" + extra.Key + "' is set both by its property and in Extra; set it once.");
                    }

                    if (extra.Value != null)
                    {
                        if (extra.Key == "profile")
                        {
                            entries.Insert(0, extra);
                        }
                        else
                        {
                            entries.Add(extra);
                        }
                    }
                }
            }

            return entries;
        }

        private static void AddIfSet(List<KeyValuePair<string, string>> entries, string key, string value)
        {
            if (value != null)
            {
                entries.Add(new KeyValuePair<string, string>(key, value));
            }
        }
    }
}
