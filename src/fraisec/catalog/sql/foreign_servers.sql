-- Foreign servers (not an extension's), with their wrapper, TYPE, VERSION and options.
select s.oid, s.srvname as name, pg_get_userbyid(s.srvowner) as owner, w.fdwname as fdw,
       s.srvtype as type, s.srvversion as version,
       array(select array[o.option_name, o.option_value]
             from pg_options_to_table(s.srvoptions) o order by 1) as options
from pg_foreign_server s join pg_foreign_data_wrapper w on w.oid = s.srvfdw
where not exists (select 1 from pg_depend d where d.classid = 'pg_foreign_server'::regclass
                  and d.objid = s.oid and d.deptype = 'e')
order by 2
