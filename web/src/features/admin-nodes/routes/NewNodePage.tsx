import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { PageTitle } from '@/components/PageTitle';
import { useCreateNode } from '../api/nodes';
import { NEW_NODE, NodeForm, bodyOf } from '../components/NodeForm';
import '../nodes.css';

/** Register a node; the next step (its config.yml and setup command) is on the node's page. */
export function NewNodePage() {
  const { t } = useTranslation('adminNodes');
  const create = useCreateNode();
  const navigate = useNavigate();
  return (
    <>
      <PageTitle>{t('create.title')}</PageTitle>
      <p>
        <Link to="/admin/nodes">{t('backToList')}</Link>
      </p>
      <p>{t('create.intro')}</p>
      <NodeForm
        initial={NEW_NODE}
        submitLabel={t('create.submit')}
        busyLabel={t('create.busy')}
        busy={create.isPending}
        error={create.error}
        onSubmit={(draft) =>
          create.mutate(bodyOf(draft), {
            onSuccess: (node) => void navigate(`/admin/nodes/${encodeURIComponent(node.id)}?created=1`),
          })
        }
        onCancel={() => void navigate('/admin/nodes')}
      />
    </>
  );
}
