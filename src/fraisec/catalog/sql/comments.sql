-- Comments on user objects, located by catalog, oid and sub-id; the introspector maps them.
select d.classoid::regclass::text as classid, d.objoid as objid, d.objsubid, d.description
from pg_description d
where d.objoid >= 16384
  and d.classoid in ('pg_namespace'::regclass, 'pg_class'::regclass, 'pg_type'::regclass,
                     'pg_proc'::regclass, 'pg_constraint'::regclass, 'pg_trigger'::regclass,
                     'pg_policy'::regclass, 'pg_collation'::regclass, 'pg_rewrite'::regclass,
                     'pg_event_trigger'::regclass, 'pg_publication'::regclass,
                     'pg_foreign_data_wrapper'::regclass, 'pg_foreign_server'::regclass)
  and not exists (select 1 from pg_depend xd where xd.classid = d.classoid
                  and xd.objid = d.objoid and xd.deptype = 'e')
order by 1, 2, 3
