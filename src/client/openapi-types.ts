/**
 * Generated from openapi/openapi.json by openapi-typescript (npm run client:types). Do not edit.
 */

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness
         * @description Liveness: the process answers.
         */
        get: operations["healthz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness
         * @description Readiness: the database answers, every migration is applied, and the audit sealer keeps up (no committed row unsealed for 10 times the sealing bound).
         */
        get: operations["readyz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tokenize": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Tokenize values
         * @description Swap 1 to 10,000 values for format-preserving tokens, in request order. The same value in a namespace always gets the same token (unless the namespace is random). With onInvalid "reject" one bad item stores nothing; with "skip" bad items come back as { index, error } in place.
         */
        post: operations["tokenize"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/detokenize": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Reveal values for tokens
         * @description Reveal 1 to 1,000 tokens, in request order, for a stated purpose (audited per token). A caller with only detokenize:masked:<type> gets masked values; asking for plain without detokenize:plain:<type> gives status "forbidden".
         */
        post: operations["detokenize"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/token": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Get an access token (client credentials)
         * @description OAuth 2.0 client credentials grant (RFC 6749 §4.4). Credentials in HTTP Basic or the body; form-encoded or JSON. An optional space-separated `scope` narrows the grant. Errors follow RFC 6749 §5.2. Limited per IP (60/min, before the body is read) and per client id and IP (20/min); bodies over 8 KiB are refused (413).
         */
        post: operations["issueToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/clients": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List service clients
         * @description List service clients (admin). Secrets are never returned.
         */
        get: operations["listClients"];
        put?: never;
        /**
         * Create a service client
         * @description Create a service client (admin). The secret is returned once. Only scopes in the policy file's grants allowlist (default: tokenize), namespaces the admin holds, and a revealBudget up to the allowed maximum can be granted here (403 GRANT_NOT_ALLOWED); wider grants need the CLI. tokenize with a detokenize scope is 400 SEPARATION_OF_DUTIES.
         */
        post: operations["createClient"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/clients/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke a service client
         * @description Revoke a client (admin): its secret stops working at once, its tokens within 5 seconds on every instance.
         */
        delete: operations["revokeClient"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/clients/{id}/secret": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rotate a client secret
         * @description Replace a client secret (admin); the new one is returned once. Tokens already issued stay valid until they expire.
         */
        post: operations["rotateClientSecret"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Query the audit log
         * @description Audit events by id, filtered by actor, action, outcome, namespace, token and time [from, to). Page with nextCursor; at most 1,000 rows a page.
         */
        get: operations["queryAudit"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Verify the sealed audit log
         * @description Verify the sealed log against its signed checkpoints, in seq order: ok with the rows checked and the newest checkpoint, or the first bad position (seq, or the event id of a row left unsealed) and why. With anchorLast and anchorRoot (a checkpoint kept outside the database), also confirms the log still holds that checkpoint.
         */
        get: operations["verifyAudit"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/head": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The newest signed checkpoint
         * @description The newest signed checkpoint: keep its last seq and root outside the database as an anchor.
         */
        get: operations["auditHead"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/public-key": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The audit public key
         * @description The Ed25519 public key (JWK) that verifies audit checkpoints and proofs.
         */
        get: operations["auditPublicKey"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/{id}/proof": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Inclusion proof of one audit row
         * @description The proof that one audit row is in a signed checkpoint: the row, its RFC 9162 inclusion path and the checkpoint. Verify offline with `tokenvault audit verify-proof` and the public key. 409 while the row awaits its seal.
         */
        get: operations["auditProof"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/erasures": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Erasure feed
         * @description Every erasure in commit order with its erased tokens, for downstream systems (Kafka tombstones, warehouse deletes). Poll with after=<nextCursor>; the cursor never skips an event, even when erasures commit concurrently.
         */
        get: operations["erasureFeed"];
        put?: never;
        /**
         * Erase by subject, value or tokens
         * @description Hard-delete by subject (every namespace; destroys the subject key), by value, or by tokens, in one transaction, and return a signed receipt. By subject, what is the subject's alone is deleted and a value other subjects also hold is only unlinked from it (counts.retainedShared); by value or tokens, the mappings go for every subject (scope "everyone"). Erased tokens answer "erased" and are never reissued; tokenizing the value again gives a new token. Repeating an erasure is safe: it erases nothing more and returns its own receipt with tokensErased 0 and a reason.
         */
        post: operations["erase"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/erasures/public-key": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Receipt verification key
         * @description The Ed25519 public key (JWK) that verifies erasure receipts.
         */
        get: operations["erasurePublicKey"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/erasures/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get an erasure receipt
         * @description A receipt by erasure id.
         */
        get: operations["getErasureReceipt"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/subjects/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Export what is held for a subject
         * @description What the vault holds for a data subject (GDPR Art. 15 / portability): the tokens linked to the subject in the namespaces the caller may use, with values only where the caller also holds detokenize:plain:<type> (those count against the reveal budget). Audited with the purpose.
         */
        post: operations["exportSubject"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description The one error shape */
        ErrorBody: {
            error: {
                /**
                 * @description stable UPPER_SNAKE error code
                 * @enum {string}
                 */
                code: "VALIDATION_FAILED" | "MALFORMED_JSON" | "BAD_REQUEST" | "UNAUTHORIZED" | "FORBIDDEN" | "NAMESPACE_NOT_FOUND" | "NOT_FOUND" | "TOKEN_SPACE_EXHAUSTED" | "PAYLOAD_TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE" | "RATE_LIMITED" | "REVEAL_BUDGET_EXCEEDED" | "INTERNAL_ERROR" | "DECRYPTION_FAILED" | "DATABASE_UNAVAILABLE" | "SHUTTING_DOWN" | "SEPARATION_OF_DUTIES" | "GRANT_NOT_ALLOWED";
                message: string;
                items?: {
                    index: number;
                    code: string;
                    message: string;
                }[];
            };
            requestId: string;
        };
        AuditCheckpoint: {
            first: number;
            last: number;
            /** @description RFC 6962 Merkle root of the leaves of seqs first..last, hex */
            root: string;
            /** @description SHA-256 of the previous checkpoint's signed body, hex (zeros for the first) */
            prev: string;
            /** Format: date-time */
            ts: string;
            kid: string;
            /** @description Ed25519 (base64url) over the canonical JSON of {v: 1, log: "tokenvault-audit", first, last, root, prev, ts, kid}; key at GET /v1/audit/public-key */
            signature: string;
        };
        ErasureReceipt: {
            /** @description 2 for erasures made now; 1 for receipts stored by earlier versions (without scope, counts and reason) */
            version: 1 | 2;
            /** Format: uuid */
            erasureId: string;
            /** @enum {string} */
            status: "completed";
            method: "subject" | "value" | "tokens";
            /** @description subject: what was this subject's alone was erased, values shared with other subjects only unlinked; everyone: by value or token, the mappings are gone for every subject */
            scope?: "subject" | "everyone";
            reference: string | null;
            /** Format: date-time */
            requestedAt: string;
            /** Format: date-time */
            completedAt: string;
            tokensErased: number;
            tokens: {
                namespace: string;
                type: string;
                token: string;
            }[];
            counts?: {
                /** @description mappings deleted (their tokens are listed in tokens and on the feed) */
                erased: number;
                /** @description values other subjects also hold: only unlinked from this subject (its copy and key destroyed), kept for the others, not on the feed */
                retainedShared: number;
                /** @description by value: 1 when no mapping held it; by tokens: distinct tokens without a mapping (unknown or erased before); by subject: always 0 (nothing identifies a subject once erased) */
                alreadyAbsent: number;
            };
            /** @description present exactly when tokensErased is 0: why nothing was erased */
            reason?: string;
            keyId: string;
            /** @description Ed25519 (base64url) over the canonical JSON of every other field; key at GET /v1/erasures/public-key */
            signature: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    healthz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        status: string;
                        checks?: {
                            [key: string]: string;
                        };
                        reason?: string;
                    };
                };
            };
            /** @description a client error (e.g. 413, 415), in the one error shape */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    readyz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        status: string;
                        checks?: {
                            [key: string]: string;
                        };
                        reason?: string;
                    };
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        status: string;
                        checks?: {
                            [key: string]: string;
                        };
                        reason?: string;
                    };
                };
            };
            /** @description a client error (e.g. 413, 415), in the one error shape */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    tokenize: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "namespace": "default",
                 *       "items": [
                 *         {
                 *           "type": "email",
                 *           "value": "jane.doe@example.com"
                 *         },
                 *         {
                 *           "type": "ipv4",
                 *           "value": "192.0.2.10"
                 *         }
                 *       ]
                 *     }
                 */
                "application/json": {
                    /**
                     * @description namespace (policy domain); default "default"
                     * @example default
                     */
                    namespace?: string;
                    items: {
                        /**
                         * @description token type (SPEC §4)
                         * @enum {string}
                         */
                        type: "email" | "phone" | "ipv4" | "ipv6" | "card" | "ssn" | "uuid" | "date" | "digits" | "alnum" | "text";
                        /** @description the value to tokenize (never logged) */
                        value: string;
                        /** @description data subject id; stored only as a keyed HMAC */
                        subject?: string;
                    }[];
                    /** @default reject */
                    onInvalid?: "reject" | "skip";
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        results: {
                            token?: string;
                            type?: string;
                            created?: boolean;
                            index?: number;
                            error?: {
                                code: string;
                                message: string;
                            };
                        }[];
                    };
                };
            };
            /** @description The one error shape */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            429: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            503: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    detokenize: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "namespace": "default",
                 *       "tokens": [
                 *         "abcdefgh@example.com"
                 *       ],
                 *       "purpose": "TICKET-1234",
                 *       "reveal": "masked"
                 *     }
                 */
                "application/json": {
                    /**
                     * @description namespace (policy domain); default "default"
                     * @example default
                     */
                    namespace?: string;
                    tokens: string[];
                    /** @description why the values are needed (audited), e.g. a ticket reference; printable text only */
                    purpose: string;
                    /** @description default: the most the caller is allowed per type */
                    reveal?: "plain" | "masked";
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        results: {
                            token: string;
                            status: "ok" | "not_found" | "erased" | "forbidden";
                            type?: string;
                            value?: string;
                            reveal?: "plain" | "masked";
                        }[];
                    };
                };
            };
            /** @description The one error shape */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            429: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            503: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    issueToken: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "grant_type": "client_credentials",
                 *       "client_id": "00000000-0000-4000-8000-000000000000",
                 *       "client_secret": "tvs_…"
                 *     }
                 */
                "application/x-www-form-urlencoded": {
                    grant_type?: string;
                    client_id?: string;
                    client_secret?: string;
                    scope?: string;
                } & {
                    [key: string]: unknown;
                };
                /**
                 * @example {
                 *       "grant_type": "client_credentials",
                 *       "client_id": "00000000-0000-4000-8000-000000000000",
                 *       "client_secret": "tvs_…"
                 *     }
                 */
                "application/json": {
                    grant_type?: string;
                    client_id?: string;
                    client_secret?: string;
                    scope?: string;
                } & {
                    [key: string]: unknown;
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        access_token: string;
                        /** @enum {string} */
                        token_type: "Bearer";
                        expires_in: number;
                        scope: string;
                    };
                };
            };
            /** @description RFC 6749 §5.2 error */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description invalid_request, invalid_client, unsupported_grant_type, invalid_scope; temporarily_unavailable when rate-limited (429, with Retry-After); server_error */
                        error: string;
                        error_description: string;
                        requestId: string;
                    };
                };
            };
            /** @description RFC 6749 §5.2 error */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description invalid_request, invalid_client, unsupported_grant_type, invalid_scope; temporarily_unavailable when rate-limited (429, with Retry-After); server_error */
                        error: string;
                        error_description: string;
                        requestId: string;
                    };
                };
            };
            /** @description RFC 6749 §5.2 error */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description invalid_request, invalid_client, unsupported_grant_type, invalid_scope; temporarily_unavailable when rate-limited (429, with Retry-After); server_error */
                        error: string;
                        error_description: string;
                        requestId: string;
                    };
                };
            };
            /** @description RFC 6749 §5.2 error */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description invalid_request, invalid_client, unsupported_grant_type, invalid_scope; temporarily_unavailable when rate-limited (429, with Retry-After); server_error */
                        error: string;
                        error_description: string;
                        requestId: string;
                    };
                };
            };
            /** @description RFC 6749 §5.2 error */
            429: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description invalid_request, invalid_client, unsupported_grant_type, invalid_scope; temporarily_unavailable when rate-limited (429, with Retry-After); server_error */
                        error: string;
                        error_description: string;
                        requestId: string;
                    };
                };
            };
            /** @description RFC 6749 §5.2 error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description invalid_request, invalid_client, unsupported_grant_type, invalid_scope; temporarily_unavailable when rate-limited (429, with Retry-After); server_error */
                        error: string;
                        error_description: string;
                        requestId: string;
                    };
                };
            };
            /** @description RFC 6749 §5.2 error */
            503: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description invalid_request, invalid_client, unsupported_grant_type, invalid_scope; temporarily_unavailable when rate-limited (429, with Retry-After); server_error */
                        error: string;
                        error_description: string;
                        requestId: string;
                    };
                };
            };
        };
    };
    listClients: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        clients: {
                            /** Format: uuid */
                            id: string;
                            name: string;
                            scopes: string[];
                            namespaces: string[];
                            revealBudget: number | null;
                            /** Format: date-time */
                            createdAt: string;
                            revokedAt: string | null;
                        }[];
                    };
                };
            };
            /** @description The one error shape */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            429: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            503: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    createClient: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "checkout-ingest",
                 *       "scopes": [
                 *         "tokenize"
                 *       ],
                 *       "namespaces": [
                 *         "default"
                 *       ]
                 *     }
                 */
                "application/json": {
                    name: string;
                    scopes: string[];
                    /**
                     * @default [
                     *       "default"
                     *     ]
                     */
                    namespaces: string[];
                    revealBudget?: number;
                };
            };
        };
        responses: {
            /** @description Default Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        client: {
                            /** Format: uuid */
                            id: string;
                            name: string;
                            scopes: string[];
                            namespaces: string[];
                            revealBudget: number | null;
                            /** Format: date-time */
                            createdAt: string;
                            revokedAt: string | null;
                        };
                        /** @description shown once; only its argon2id hash is stored */
                        secret: string;
                    };
                };
            };
            /** @description The one error shape */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            429: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            503: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    revokeClient: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        client: {
                            /** Format: uuid */
                            id: string;
                            name: string;
                            scopes: string[];
                            namespaces: string[];
                            revealBudget: number | null;
                            /** Format: date-time */
                            createdAt: string;
                            revokedAt: string | null;
                        };
                    };
                };
            };
            /** @description The one error shape */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            429: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            503: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    rotateClientSecret: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        client: {
                            /** Format: uuid */
                            id: string;
                            name: string;
                            scopes: string[];
                            namespaces: string[];
                            revealBudget: number | null;
                            /** Format: date-time */
                            createdAt: string;
                            revokedAt: string | null;
                        };
                        /** @description shown once; only its argon2id hash is stored */
                        secret: string;
                    };
                };
            };
            /** @description The one error shape */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            429: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            503: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    queryAudit: {
        parameters: {
            query?: {
                actor?: string;
                action?: string;
                outcome?: string;
                namespace?: string;
                /** @description rows that name this token */
                token?: string;
                from?: string;
                /** @description exclusive */
                to?: string;
                /** @description nextCursor of the previous page */
                cursor?: string;
                /** @description 1 to 1,000 (default 100) */
                limit?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        events: {
                            /** @description insertion id (unique; not the order) */
                            id: number;
                            /** Format: date-time */
                            ts: string;
                            requestId: string | null;
                            actor: string;
                            action: string;
                            outcome: string;
                            namespace: string | null;
                            purpose: string | null;
                            details: {
                                [key: string]: unknown;
                            };
                            erasureId: string | null;
                            /** @description position in the sealed log; null until sealed (within the bound) */
                            seq: number | null;
                        }[];
                        nextCursor: string | null;
                    };
                };
            };
            /** @description The one error shape */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            429: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            503: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    verifyAudit: {
        parameters: {
            query?: {
                /** @description last seq of a checkpoint kept outside the database */
                anchorLast?: string;
                /** @description its root */
                anchorRoot?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        ok: boolean;
                        rowsChecked: number;
                        checkpoints: number;
                        head?: components["schemas"]["AuditCheckpoint"] | null;
                        /** @description rows committed but not yet sealed (all younger than the limit) */
                        unsealed?: number;
                        brokenAt?: {
                            seq: number | null;
                            eventId: number | null;
                        };
                        reason?: string;
                    };
                };
            };
            /** @description The one error shape */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            429: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            503: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    auditHead: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        checkpoint: components["schemas"]["AuditCheckpoint"] | null;
                    };
                };
            };
            /** @description The one error shape */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            429: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            503: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    auditPublicKey: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        kty: string;
                        crv: string;
                        x: string;
                        kid: string;
                        alg: string;
                        use: string;
                    };
                };
            };
            /** @description a client error (e.g. 413, 415), in the one error shape */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    auditProof: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {number} */
                        v: 1;
                        row: {
                            /** @description insertion id (unique; not the order) */
                            id: number;
                            /** Format: date-time */
                            ts: string;
                            requestId: string | null;
                            actor: string;
                            action: string;
                            outcome: string;
                            namespace: string | null;
                            purpose: string | null;
                            details: {
                                [key: string]: unknown;
                            };
                            erasureId: string | null;
                            seq: number;
                            /** @description the sealer's check of the row's MAC: ok, forged, replayed or legacy */
                            verdict: string;
                        };
                        leafIndex: number;
                        treeSize: number;
                        /** @description RFC 9162 inclusion path, hex, leaf to root */
                        path: string[];
                        checkpoint: components["schemas"]["AuditCheckpoint"];
                    };
                };
            };
            /** @description The one error shape */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            429: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            503: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    erasureFeed: {
        parameters: {
            query?: {
                /** @description cursor: the seq of the last event you processed (default 0) */
                after?: string;
                /** @description 1 to 1,000 (default 100) */
                limit?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        events: {
                            seq: number;
                            erasureId: string;
                            completedAt: string;
                            reference: string | null;
                            tokens: {
                                namespace: string;
                                type: string;
                                token: string;
                            }[];
                        }[];
                        /** @description pass as after= next time (unchanged when there was nothing new) */
                        nextCursor: string;
                    };
                };
            };
            /** @description The one error shape */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            429: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            503: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    erase: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** @description exactly one of: { subject } | { namespace?, type, value } | { namespace?, tokens } */
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "subject": "customer-0001",
                 *       "reference": "DSR-2026-001"
                 *     }
                 */
                "application/json": {
                    subject: string;
                    /** @description your DSR ticket id (letters, digits, ._:/#-): recorded in the receipt and audit, so never put personal data here */
                    reference?: string;
                } | {
                    /**
                     * @description namespace (policy domain); default "default"
                     * @example default
                     */
                    namespace?: string;
                    /**
                     * @description token type (SPEC §4)
                     * @enum {string}
                     */
                    type: "email" | "phone" | "ipv4" | "ipv6" | "card" | "ssn" | "uuid" | "date" | "digits" | "alnum" | "text";
                    value: string;
                    /** @description your DSR ticket id (letters, digits, ._:/#-): recorded in the receipt and audit, so never put personal data here */
                    reference?: string;
                } | {
                    /**
                     * @description namespace (policy domain); default "default"
                     * @example default
                     */
                    namespace?: string;
                    tokens: string[];
                    /** @description your DSR ticket id (letters, digits, ._:/#-): recorded in the receipt and audit, so never put personal data here */
                    reference?: string;
                };
            };
        };
        responses: {
            /** @description Default Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErasureReceipt"];
                };
            };
            /** @description The one error shape */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            429: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            503: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    erasurePublicKey: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        kty: string;
                        crv: string;
                        x: string;
                        kid: string;
                        alg: string;
                        use: string;
                    };
                };
            };
            /** @description a client error (e.g. 413, 415), in the one error shape */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    getErasureReceipt: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErasureReceipt"];
                };
            };
            /** @description The one error shape */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            429: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            503: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    exportSubject: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "subject": "customer-0001",
                 *       "purpose": "DSR-2026-001 access request"
                 *     }
                 */
                "application/json": {
                    subject: string;
                    /** @description why the values are needed (audited), e.g. a ticket reference; printable text only */
                    purpose: string;
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        tokens: {
                            namespace: string;
                            type: string;
                            token: string;
                            createdAt: string;
                            value?: string;
                        }[];
                    };
                };
            };
            /** @description The one error shape */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            429: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The one error shape */
            503: {
                headers: {
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
}
