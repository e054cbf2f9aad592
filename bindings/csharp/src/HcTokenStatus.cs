namespace HcToken
{
    /// <summary>
    /// The status codes of the native library (<c>hct_status</c> in hctoken.h), with the same values.
    /// </summary>
    public enum HcTokenStatus
    {
        /// <summary>HCT_OK: success.</summary>
        Ok = 0,
        /// <summary>HCT_ERR_INVALID_ARGUMENT: a null pointer, text that is not UTF-8, or an unknown key.</summary>
        InvalidArgument = 1,
        /// <summary>HCT_ERR_CONFIG: an incomplete, inconsistent or refused configuration.</summary>
        Config = 2,
        /// <summary>HCT_ERR_NETWORK: the token endpoint could not be reached.</summary>
        Network = 3,
        /// <summary>HCT_ERR_TIMEOUT: the token endpoint did not answer in time.</summary>
        Timeout = 4,
        /// <summary>HCT_ERR_TLS: the TLS handshake or certificate verification failed.</summary>
        Tls = 5,
        /// <summary>HCT_ERR_HTTP: the token endpoint answered with an unexpected HTTP status.</summary>
        Http = 6,
        /// <summary>HCT_ERR_OAUTH: the token endpoint refused the request with an OAuth error.</summary>
        OAuth = 7,
        /// <summary>HCT_ERR_RESPONSE: the token endpoint's answer could not be used.</summary>
        Response = 8,
        /// <summary>HCT_ERR_BUFFER_TOO_SMALL: a caller-supplied buffer was too small.</summary>
        BufferTooSmall = 9,
        /// <summary>HCT_ERR_INTERNAL: a bug in the library (a caught panic).</summary>
        Internal = 10,
        /// <summary>HCT_ERR_NO_TOKEN: a cached-only request found no valid token in the cache; nothing was fetched.</summary>
        NoToken = 11,
    }
}
