-- Rewrite rules on tables and views, other than a view's own _RETURN rule (that is the view).
select r.oid, r.ev_class as table_oid, r.rulename as name, pg_get_ruledef(r.oid) as definition,
       r.ev_enabled as enabled
from pg_rewrite r
join pg_class c on c.oid = r.ev_class
join pg_namespace n on n.oid = c.relnamespace
where r.rulename <> '_RETURN'
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass
                  and d.objid = c.oid and d.deptype = 'e')
order by 2, 3
