-- User mappings, from the pg_user_mappings view (pg_user_mapping itself is for superusers only;
-- the view shows the options to a superuser, the server's owner and the mapped user). A mapping
-- for the connecting role is reported as CURRENT_USER, so that a shadow database (owned by its
-- own superuser) and a live one (read as another role) name the same mapping alike.
select m.umid as oid, m.srvname as server,
       case when m.umuser = 0 then 'PUBLIC'
            when m.umuser = (select oid from pg_roles where rolname = current_user) then 'CURRENT_USER'
            else m.usename::text end as "user",
       array(select array[o.option_name, o.option_value]
             from pg_options_to_table(m.umoptions) o order by 1) as options
from pg_user_mappings m
where not exists (select 1 from pg_depend d where d.classid = 'pg_foreign_server'::regclass
                  and d.objid = m.srvid and d.deptype = 'e')
order by 2, 3
