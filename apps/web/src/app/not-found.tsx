import { FolderSearch } from "lucide-react";
import { StatusPage } from "@/components/ui/status-page";

export default function NotFound() {
  return (
    <StatusPage icon={FolderSearch} title="Not found">
      This page does not exist, or you do not have access to it.
    </StatusPage>
  );
}
