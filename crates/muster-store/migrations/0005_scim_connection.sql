-- The SCIM server of a SCIM integration: its base URL is shown; how Muster signs in to it
-- (bearer token or user name and password, extra headers) is sealed like AWS credentials.
ALTER TABLE integrations ADD COLUMN scim_base_url TEXT;
ALTER TABLE integrations ADD COLUMN scim_ciphertext TEXT;
