-- Foreign-data wrappers (not an extension's: postgres_fdw's comes with its extension), with their
-- handler and validator (schema-qualified names, as HANDLER and VALIDATOR take them) and options
-- as [name, value] pairs. The introspector replaces a secret option's value by a digest.
select w.oid, w.fdwname as name, pg_get_userbyid(w.fdwowner) as owner,
       case when w.fdwhandler <> 0
            then quote_ident(hn.nspname) || '.' || quote_ident(h.proname) end as handler,
       case when w.fdwvalidator <> 0
            then quote_ident(vn.nspname) || '.' || quote_ident(v.proname) end as validator,
       array(select array[o.option_name, o.option_value]
             from pg_options_to_table(w.fdwoptions) o order by 1) as options
from pg_foreign_data_wrapper w
left join pg_proc h on h.oid = w.fdwhandler left join pg_namespace hn on hn.oid = h.pronamespace
left join pg_proc v on v.oid = w.fdwvalidator left join pg_namespace vn on vn.oid = v.pronamespace
where not exists (select 1 from pg_depend d where d.classid = 'pg_foreign_data_wrapper'::regclass
                  and d.objid = w.oid and d.deptype = 'e')
order by 2
