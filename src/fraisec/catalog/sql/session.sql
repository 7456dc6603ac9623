select current_user::text as current_user, current_setting('server_version_num')::int as server_version,
       current_database()::text as database
