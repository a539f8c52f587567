-- A site's allowed domains (JSON array of entries such as "*.example.com"), where its widget
-- may run; NULL: the site's own domain and its subdomains (frontdesk_core::embed).
ALTER TABLE websites ADD COLUMN allowed_domains TEXT;
